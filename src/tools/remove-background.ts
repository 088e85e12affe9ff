import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Runtime } from "../runtime.js";
import { imageInput, mediaTool, registerMediaTool } from "./media-tool.js";

export const removeBackgroundTool = mediaTool({
  name: "remove_background",
  title: "Remove an image's background",
  description: "Cut the subject out of an image and return it with a transparent background.",
  job: "backgroundRemoval",
  input: { image: imageInput },
  toInputs: (a) => ({ image: a.image }),
});

export const registerRemoveBackground = (server: McpServer, runtime: Runtime) => registerMediaTool(server, runtime, removeBackgroundTool);
