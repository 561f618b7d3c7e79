// Reads BPMN and DMN files the way bpmn-js / dmn-js (and Camunda Modeler) do, through
// their moddle libraries, and prints a JSON report of the warnings for each file.
import { readFileSync } from "node:fs";
import { BpmnModdle } from "bpmn-moddle";
import { DmnModdle } from "dmn-moddle";

const report = {};
for (const path of process.argv.slice(2)) {
  const xml = readFileSync(path, "utf8");
  const moddle = path.endsWith(".dmn") ? new DmnModdle() : new BpmnModdle();
  const root = path.endsWith(".dmn") ? "dmn:Definitions" : "bpmn:Definitions";
  try {
    const { warnings } = await moddle.fromXML(xml, root);
    report[path] = warnings.map((w) => w.message);
  } catch (err) {
    report[path] = [`error: ${err.message}`];
  }
}
console.log(JSON.stringify(report));
