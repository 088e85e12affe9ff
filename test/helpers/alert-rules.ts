// What the alert rules in ops/prometheus read, for the tests that check them against the server.
import { join } from "node:path";

export const ALERT_RULES = join(import.meta.dirname, "..", "..", "ops", "prometheus", "alerts.yml");

/** The metric families the rules read (histogram series by their family name). */
export function familiesInRules(rules: string): string[] {
  return [...new Set([...rules.matchAll(/\b(switchboard_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, "")))].sort();
}
