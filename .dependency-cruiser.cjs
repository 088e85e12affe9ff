/**
 * The layers of src/, top to bottom (ARCHITECTURE.md explains them). A module may import from
 * its own layer and from any layer below it, never from one above; and nothing may import in a
 * circle. `npm run lint` runs this check.
 */
const LAYERS = [
  { name: "cli", path: "^src/(cli\\.ts|cli/)" },
  { name: "transports", path: "^src/(http/|stdio\\.ts)" },
  { name: "server", path: "^src/server\\.ts" },
  { name: "tools", path: "^src/(tools|resources)/" },
  { name: "jobs", path: "^src/jobs/" },
  { name: "runtime", path: "^src/runtime\\.ts" },
  { name: "budgets", path: "^src/(budgets/|learning\\.ts)" },
  { name: "routing", path: "^src/(routing|resilience|downstream)/" },
  { name: "providers", path: "^src/(providers|store)/" },
  { name: "foundation", path: "^src/(config/|errors\\.ts|auth\\.ts|logger\\.ts|version\\.ts)" },
];

const upward = LAYERS.flatMap((lower, i) =>
  LAYERS.slice(0, i).map((higher) => ({
    name: `${lower.name}-not-to-${higher.name}`,
    comment: `${lower.name} sits below ${higher.name}: data flows down, imports never run back up.`,
    severity: "error",
    from: { path: lower.path },
    to: { path: higher.path },
  })),
);

module.exports = {
  forbidden: [
    ...upward,
    {
      name: "no-circular",
      comment: "Modules that import each other cannot be understood (or moved) one at a time.",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "router-is-pure",
      comment: "The router decides without I/O: it reads config and nothing with state.",
      severity: "error",
      from: { path: "^src/routing/" },
      to: { path: "^src/", pathNot: "^src/(routing/|config/|errors\\.ts|logger\\.ts)" },
    },
    {
      name: "resilience-knows-no-routing",
      comment: "The failover chain is handed its choices (escalate, callable); it does not pick models.",
      severity: "error",
      from: { path: "^src/resilience/" },
      to: { path: "^src/routing/" },
    },
    {
      name: "no-adapter-imports-another",
      comment:
        "Each provider adapter stands alone; shared pieces live in providers/{types,errors,http-error,http-fetch,sdk-logger,reasoning,cache-hints}.ts, and an adapter's own parts in providers/<adapter>-<part>.ts.",
      severity: "error",
      from: { path: "^src/providers/(?!registry\\.ts)([a-z]+)[^/]*\\.ts$" },
      to: { path: "^src/providers/", pathNot: ["^src/providers/(types|errors|http-error|http-fetch|sdk-logger|reasoning|cache-hints)\\.ts$", "^src/providers/$1-[^/]+\\.ts$"] },
    },
    {
      name: "tools-load-jobs-on-first-run",
      comment:
        "Start-up lists tools and routes without the code tools run: a tool imports its job with `await import(...)` in `run` (and tools/index.ts preloads it once the server is idle). Types and the small shared pieces (file-content, served) are fine.",
      severity: "error",
      from: { path: "^src/(tools|resources)/" },
      to: { path: "^src/jobs/", pathNot: "^src/jobs/(file-content|served)\\.ts$", dependencyTypesNot: ["type-only", "dynamic-import"] },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    includeOnly: "^src/",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.build.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"], extensions: [".ts", ".js", ".json"] },
  },
};
