import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Runtime } from "../runtime.js";
import { imageInput, mediaTool, registerMediaTool } from "./media-tool.js";

export const upscaleImageTool = mediaTool({
  name: "upscale_image",
  title: "Upscale an image",
  description: "Increase an image's resolution with a super-resolution model.",
  job: "upscaling",
  input: { image: imageInput, scale: z.number().int().min(2).max(8).default(4).describe("Upscaling factor.") },
  toInputs: (a) => ({ image: a.image, scale: a.scale }),
});

export const registerUpscaleImage = (server: McpServer, runtime: Runtime) => registerMediaTool(server, runtime, upscaleImageTool);
