// Build step: train the task classifier on the shipped examples and store it in dist/,
// so servers and CLI runs start without training.
import { loadConfig } from "../dist/config/load.js";
import { writeClassifierSnapshot, CLASSIFIER_SNAPSHOT } from "../dist/routing/classifier-cache.js";

const { config } = loadConfig({ env: {} });
const clf = writeClassifierSnapshot(config);
const s = clf.stats;
process.stderr.write(
  `classifier: ${s.examples} examples, ${s.features} features, cross-validated accuracy ${s.crossValidatedAccuracy === null ? "n/a" : (s.crossValidatedAccuracy * 100).toFixed(1) + "%"}, ` +
    `temperature ${s.temperature}, trained in ${s.trainMs} ms -> ${CLASSIFIER_SNAPSHOT}\n`,
);
