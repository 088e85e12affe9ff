import { imageInput, mediaTool } from "./media-tool.js";

export const removeBackgroundTool = mediaTool({
  name: "remove_background",
  title: "Remove an image's background",
  description: "Cut the subject out of an image and return it with a transparent background.",
  job: "backgroundRemoval",
  input: { image: imageInput },
  toInputs: (a) => ({ image: a.image }),
});
