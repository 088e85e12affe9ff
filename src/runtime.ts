import { watch, type FSWatcher } from "node:fs";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { shareBreakers } from "./resilience/breaker-sync.js";
import { CallBroadcast } from "./store/call-broadcast.js";
import { loadConfig, ConfigError, type LoadOptions, type LoadedConfig } from "./config/load.js";
import { configuredProviders } from "./config/env.js";
import { loadOrTrainClassifier } from "./routing/classifier-cache.js";
import { createRouter, type Router } from "./routing/router.js";
import type { Decision, RouteInput } from "./routing/types.js";
import { logger, type Logger } from "./logger.js";
import { ProviderRegistry } from "./providers/registry.js";
import { BreakerBoard } from "./resilience/breakers.js";
import { DownstreamPool } from "./downstream/pool.js";
import { Store, type StoreOptions } from "./store/store.js";
import { Budgets } from "./budgets/ledger.js";
import { RateLimiter } from "./budgets/rate-limits.js";
import { LearnedPreferences } from "./learning.js";
import type { CallRecord } from "./store/telemetry.js";
import { postureChanges, securityPosture } from "./auth.js";

export interface RuntimeOptions extends LoadOptions {
  /** Telemetry, budgets and feedback; off unless given (serve turns it on). */
  store?: StoreOptions | false;
}

/**
 * The live state behind every tool: the config in force and the router built from it.
 * A reload swaps both at once; an invalid edit keeps the last good pair.
 */
export class Runtime {
  private loaded: LoadedConfig;
  private routerRef: Router;
  private watchers: FSWatcher[] = [];
  private reloadTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(r: Runtime) => void>();
  private readonly callListeners = new Set<(r: CallRecord) => void>();
  /** Provider adapters; keys are read from env at call time. */
  readonly providers: ProviderRegistry;
  /** Circuit breakers per provider:model; they outlive config reloads. */
  readonly breakers: BreakerBoard;
  /** Telemetry and feedback, when enabled. */
  readonly store: Store | undefined;
  /** The downstream MCP servers of config/mcp.yaml, connected when a call first needs one. */
  readonly downstream: DownstreamPool;
  /** Tier 4 of the router: preferences learned from what the store has seen (with a store only). */
  readonly learning: LearnedPreferences | undefined;
  private budgetsRef: Budgets | undefined;
  private rateRef: Promise<RateLimiter> | undefined;
  private sharing: Promise<void> | undefined;
  private readonly remoteListeners = new Set<(records: CallRecord[]) => void>();
  private broadcast: CallBroadcast | undefined;
  private stopSharing: (() => Promise<void>) | undefined;
  /** This process among the instances on one store: host and pid. */
  readonly instance = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(
    private readonly opts: RuntimeOptions = {},
    private readonly log: Logger = logger,
  ) {
    this.loaded = loadConfig(opts);
    this.routerRef = this.build(this.loaded);
    this.providers = new ProviderRegistry(() => this.loaded.config, opts.env ?? process.env);
    this.breakers = new BreakerBoard(this.loaded.config.router.failover.breaker);
    const env = opts.env ?? process.env;
    this.store = opts.store
      ? new Store({ ...opts.store, ...(opts.store.databaseUrl || !env.DATABASE_URL?.trim() ? {} : { databaseUrl: env.DATABASE_URL.trim() }) }, log)
      : undefined;
    this.downstream = new DownstreamPool(() => this.loaded.config, env, log);
    const store = this.store;
    this.learning = store ? new LearnedPreferences(() => store.db(), () => this.loaded.config, log, () => store.writes()) : undefined;
    // Calls journaled during a burst reach the store together: learn from them while it is awake.
    const learning = this.learning;
    if (store && learning) store.telemetry.afterImport = () => void learning.refresh();
  }

  get config() {
    return this.loaded.config;
  }
  get configVersion() {
    return this.loaded.version;
  }
  get router() {
    return this.routerRef;
  }
  get env() {
    return this.opts.env ?? process.env;
  }

  configuredProviders(): Set<string> {
    return configuredProviders(this.config.providers, this.env);
  }

  route(input: RouteInput, extra: { degrade?: { reason: string } } = {}): Decision {
    return this.routerRef.decide(input, {
      configuredProviders: this.configuredProviders(),
      ...(this.learning ? { adjuster: this.learning } : {}),
      ...extra,
    });
  }

  /** The spending ledger over the store, or undefined without one. */
  async budgets(): Promise<Budgets | undefined> {
    if (!this.store) return undefined;
    // Beside the database folder, not in it: that folder is PostgreSQL's own.
    const journalDir = this.store.embeddedDir && `${this.store.embeddedDir}.journal`;
    this.budgetsRef ??= new Budgets(await this.store.db(), () => this.loaded.config, undefined, journalDir ? { journalDir } : {});
    return this.budgetsRef;
  }

  /** Records the store has failed to write so far: telemetry rows dropped, budget settle batches not stored. */
  storeWriteFailures(): { telemetry: number; budget: number } {
    return { telemetry: this.store?.telemetry.dropped ?? 0, budget: this.budgetsRef?.writeFailures ?? 0 };
  }

  /**
   * On a shared store, breaker openings travel between instances (resilience/breaker-sync.ts),
   * and so do finished calls, for every dashboard's feed (store/call-broadcast.ts). Resolves once
   * this instance listens; at most once per runtime.
   */
  shareBreakers(): Promise<void> {
    const store = this.store;
    if (!store?.shared) return Promise.resolve();
    this.sharing ??= store
      .db()
      .then(async (db) => {
        this.stopSharing = await shareBreakers(this.breakers, db, this.instance, this.log);
        this.broadcast = await CallBroadcast.start(db, this.instance, this.log, (records) => {
          for (const l of this.remoteListeners) l(records);
        });
      })
      .catch((err: unknown) => this.log.warn({ err: String((err as Error)?.message ?? err) }, "breakers and calls are not shared with other instances (cannot listen on the store)"));
    return this.sharing;
  }

  /** Rate limits per tenant and token: counted in PostgreSQL when the store is shared, else in this process. */
  async rateLimits(): Promise<RateLimiter> {
    this.rateRef ??= this.store?.shared ? this.store.db().then((db) => new RateLimiter(db)) : Promise.resolve(new RateLimiter(undefined));
    return this.rateRef;
  }

  /** Starts opening the store and, once it is open, the learning refresh; waits for neither. */
  warm(): void {
    void this.store?.warm().then((open) => open && this.learning?.start());
    void this.shareBreakers();
    // Gateway mode lists the downstream tools to every new session: connect their servers now.
    if (this.config.mcp.gateway.enabled && this.downstream.configured) void this.downstream.allToolsFor(undefined).catch(() => undefined);
  }

  /** Whether anyone wants call records: the store, metrics, the dashboard. */
  get observed(): boolean {
    return this.store !== undefined || this.callListeners.size > 0;
  }

  /** Every finished tool call, success or error, goes to the store and to each listener. */
  recordCall(r: CallRecord): void {
    this.store?.record(r);
    this.broadcast?.publish(r);
    for (const l of this.callListeners) {
      try {
        l(r);
      } catch (err) {
        // A broken observer must not fail the call it observes.
        this.log.warn({ err: (err as Error).message }, "call listener failed");
      }
    }
  }

  onCall(listener: (r: CallRecord) => void): () => void {
    this.callListeners.add(listener);
    return () => this.callListeners.delete(listener);
  }

  /** Calls other instances on the shared store finished (for the dashboard's feed; never counted in metrics here). */
  onRemoteCalls(listener: (records: CallRecord[]) => void): () => void {
    this.remoteListeners.add(listener);
    return () => this.remoteListeners.delete(listener);
  }

  private build(loaded: LoadedConfig): Router {
    const { classifier, source } = loadOrTrainClassifier(loaded.config);
    this.log.debug({ source, ...classifier.stats }, "task classifier ready");
    return createRouter(loaded.config, loaded.version, classifier);
  }

  /**
   * Re-reads every config file; on error logs it and keeps the config in force. An empty or
   * truncated file is an error, and so is a config that would leave a server with tokens with
   * none unless it says `http.auth: off`: a half-written save must never turn auth off.
   */
  reload(): boolean {
    try {
      const next = loadConfig(this.opts, { strict: true });
      if (next.version === this.loaded.version) return false;
      const before = securityPosture(this.loaded.config, this.env);
      const after = securityPosture(next.config, this.env);
      if (before.authEnabled && !after.authEnabled && after.authSetting !== "off") {
        this.log.error(
          { tokens: { from: before.tokens.length, to: 0 }, removed: before.tokens.map((t) => t.label) },
          "configuration change rejected: it removes every bearer token, which would turn auth off; the last good configuration stays in force. To run without auth on purpose, set http.auth: off in the config",
        );
        return false;
      }
      const router = this.build(next);
      this.loaded = next;
      this.routerRef = router;
      const changes = postureChanges(before, after);
      if (Object.keys(changes).length) {
        this.log.warn({ version: next.version, changes }, `configuration reloaded with security changes: ${Object.keys(changes).join(", ")}`);
        if (changes.host || changes.port) this.log.warn({ host: after.host, port: after.port }, "http.host/port changed: they take effect when the server restarts");
      }
      this.log.info({ version: next.version }, "configuration reloaded");
      for (const l of this.listeners) l(this);
      return true;
    } catch (err) {
      const message = err instanceof ConfigError ? err.message : (err as Error).message;
      this.log.error({ err: message }, "configuration change rejected; the last good configuration stays in force");
      return false;
    }
  }

  onReload(listener: (r: Runtime) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Watches the config files (and their folders, since editors replace files on save). */
  watch(debounceMs = 150): void {
    if (this.watchers.length) return;
    const dirs = new Set(this.loaded.files.map((f) => f.slice(0, f.lastIndexOf("/")) || "/"));
    for (const dir of dirs) {
      try {
        const w = watch(dir, (_event, name) => {
          if (name && !/\.(ya?ml|json)$/.test(String(name))) return;
          clearTimeout(this.reloadTimer);
          this.reloadTimer = setTimeout(() => this.reload(), debounceMs);
        });
        w.on("error", (err) => this.log.warn({ err: err.message, dir }, "config watcher error"));
        this.watchers.push(w);
      } catch (err) {
        this.log.warn({ err: (err as Error).message, dir }, "cannot watch config folder");
      }
    }
  }

  /** Stops watching and closes the store; resolves once buffered budget writes and telemetry are written. */
  async close(): Promise<void> {
    clearTimeout(this.reloadTimer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
    this.learning?.stop();
    await this.downstream.close();
    await this.sharing;
    await this.stopSharing?.().catch(() => undefined);
    await this.broadcast?.close().catch(() => undefined);
    await this.budgetsRef?.settledAll().catch(() => undefined);
    await this.store?.close().catch(() => undefined);
  }
}
