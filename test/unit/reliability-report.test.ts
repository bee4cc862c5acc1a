// docs/reliability.md's fault table (scripts/reliability-report.ts): the Flink suites' fault
// scenarios counted by kind of fault and Flink version, from their mocha titles.
import assert from "node:assert/strict";
import { faultTable, type Row } from "../../scripts/reliability-report";

const row = (suites: string[], scenario: string, held: boolean): Row => ({ section: suites.at(-1)!, suites, scenario, held, ms: 1 });
const failover = (version: string) => `Failover and REST outages on Flink ${version} with JobManager HA (bundled tasks)`;

describe("reliability report: faults of a real Flink by kind and version", () => {
  it("counts each failover, outage and TaskManager-kill scenario under its kind and version, marking what did not hold", () => {
    const rows = [
      row([failover("1.20.5"), "the JobManager killed and started again"], "during Submit's wait: …", true),
      row([failover("1.20.5"), "the JobManager killed and started again"], "during Stop's savepoint: …", false),
      row([failover("2.3.0"), "the JobManager killed and started again"], "during Submit's wait: …", true),
      row([failover("1.20.5"), "the REST API unreachable for 12 s"], "in the middle of Submit's wait: …", true),
      row(["REST outages during the waits on Flink 1.20.5 (bundled tasks)"], "Cancel's wait rides through a 10 s outage", true),
      row(["Flink REST failures on Flink 2.3.0"], "the TaskManager killed while the savepoint is IN_PROGRESS: FAILED …", true),
      row(["Flink REST failures on Flink 2.3.0"], "a wrong entry class: FAILED naming the class", true),
      row(["emulator faults"], "a 503 on the POST", true),
    ];
    assert.deepEqual(faultTable(rows).filter((line) => line.startsWith("| ") && !line.startsWith("| fault")), [
      "| JobManager killed and started again (ZooKeeper HA failover) | 1.20.5 | 2 | **1** |",
      "| JobManager killed and started again (ZooKeeper HA failover) | 2.3.0 | 1 | 1 |",
      "| REST API unreachable for a while (JobManager alive) | 1.20.5 | 2 | 2 |",
      "| TaskManager killed during a savepoint | 2.3.0 | 1 | 1 |",
    ]);
  });

  it("adds no section when no fault scenario ran", () => {
    assert.deepEqual(faultTable([row(["emulator faults"], "a 503 on the POST", true)]), []);
  });
});
