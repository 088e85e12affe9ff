import { z } from "zod";
import { imageInput, mediaTool } from "./media-tool.js";

export const upscaleImageTool = mediaTool({
  name: "upscale_image",
  title: "Upscale an image",
  description: "Increase an image's resolution with a super-resolution model.",
  job: "upscaling",
  input: { image: imageInput, scale: z.number().int().min(2).max(8).default(4).describe("Upscaling factor.") },
  toInputs: (a) => ({ image: a.image, scale: a.scale }),
});
