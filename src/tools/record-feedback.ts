import { z } from "zod";
import { invalidRequest, SwitchboardError, unknownValue } from "../errors.js";
import { defineTool } from "./define-tool.js";

export const recordFeedbackTool = defineTool({
  name: "record_feedback",
  title: "Record feedback on a routed call",
  description:
    "Rate one of your calls (by the requestId in its decision), name the model the user would rather have had, or add a note; " +
    "steers later routing for the tenant and user.",
  input: {
    requestId: z.string().min(1).max(200).describe("From the call's decision."),
    rating: z.union([z.number().min(1).max(5), z.enum(["up", "down"])]).optional().describe("1 (bad) to 5 (great), or up/down."),
    preferredModel: z.string().optional().describe("A provider:model."),
    note: z.string().max(4000).optional(),
    tenant: z.string().optional(),
    user: z.string().optional(),
  },
  output: { recorded: z.boolean(), requestId: z.string() },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  run: async (args, { runtime }) => {
    const store = runtime.store;
    if (!store) throw invalidRequest("feedback needs the store, which is off in this server", "run `switchboard serve` without --no-store.");
    if (args.rating === undefined && !args.preferredModel && !args.note) {
      throw invalidRequest("the feedback is empty", "give a rating, a preferredModel or a note.", { field: "rating" });
    }
    // Own properties only: "__proto__" or "constructor" name no model or tenant.
    if (args.preferredModel && !Object.hasOwn(runtime.config.models, args.preferredModel)) throw unknownValue("preferredModel", args.preferredModel, Object.keys(runtime.config.models));
    const tenant = args.tenant ?? runtime.config.router.defaultTenant;
    if (!Object.hasOwn(runtime.config.tenants, tenant)) throw unknownValue("tenant", tenant, Object.keys(runtime.config.tenants));
    const rating = args.rating === "up" ? 5 : args.rating === "down" ? 1 : args.rating;
    const recorded = await store.recordFeedback({ requestId: args.requestId, tenant, ...(args.user ? { user: args.user } : {}), ...(rating !== undefined ? { rating } : {}), ...(args.preferredModel ? { preferredModel: args.preferredModel } : {}), ...(args.note ? { note: args.note } : {}) });
    if (!recorded) {
      // Unknown and another tenant's look the same: whether a request id exists elsewhere is not this caller's business.
      throw new SwitchboardError({
        code: "not_found",
        message: `no call with requestId "${args.requestId.slice(0, 200)}" for tenant "${tenant}"`,
        hint: "give feedback on your own calls, with the requestId from their decision (in every result); feedback on another tenant's calls is not accepted.",
        field: "requestId",
        retryable: false,
      });
    }
    // Feedback should steer the very next decisions, not the next scheduled refresh.
    void runtime.learning!.refresh();
    return { recorded: true, requestId: args.requestId };
  },
});
