/**
 * The environment's say over config: provider base URLs, and which providers have keys.
 * Keys themselves are never copied into config objects, so they cannot leak through
 * resources, decisions or logs.
 */

type Json = Record<string, unknown>;

/** OPENAI_BASE_URL for openai, OPENROUTER_BASE_URL for openrouter, ... */
export function baseUrlEnvName(provider: string): string {
  return `${provider.toUpperCase().replace(/[^A-Z0-9]/g, "_")}_BASE_URL`;
}

/** An empty value or an unexpanded `${...}` placeholder (as MCP hosts leave them) counts as unset. */
export function envValue(env: NodeJS.ProcessEnv, name: string | null | undefined): string | undefined {
  if (!name) return undefined;
  const v = env[name]?.trim();
  if (!v || /^\$\{[^}]*\}$/.test(v)) return undefined;
  return v;
}

export function overlayEnv(merged: Json, env: NodeJS.ProcessEnv): void {
  const providers = merged.providers as Record<string, Json> | undefined;
  if (!providers) return;
  for (const [name, p] of Object.entries(providers)) {
    if (!p || typeof p !== "object") continue;
    const url = envValue(env, baseUrlEnvName(name));
    if (url) {
      p.baseUrl = url;
      // Pointing a keyless local provider somewhere is how a user turns it on.
      if (p.apiKeyEnv === null) p.enabled = true;
    }
  }
}

/** Providers that can be called right now: a key is set, or a keyless provider is enabled. */
export function configuredProviders(
  providers: Record<string, { apiKeyEnv: string | null; enabled?: boolean | undefined }>,
  env: NodeJS.ProcessEnv = process.env,
): Set<string> {
  const out = new Set<string>();
  for (const [name, p] of Object.entries(providers)) {
    if (p.apiKeyEnv === null ? p.enabled === true : envValue(env, p.apiKeyEnv) !== undefined) out.add(name);
  }
  return out;
}
