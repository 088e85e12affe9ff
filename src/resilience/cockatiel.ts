import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
let lib: typeof import("cockatiel") | undefined;

/**
 * cockatiel, loaded when the first breaker is made. Its dozen CommonJS files cost some 12 ms of a
 * start-up that only lists tools and routes; a server that runs nothing never loads it. The job
 * modules that import it directly are themselves loaded on a tool's first run.
 */
export const cockatiel = (): typeof import("cockatiel") => (lib ??= require("cockatiel") as typeof import("cockatiel"));
