// The benchmark's BASELINE: a Flink job action written the plain way, as a typical hand-written
// pipeline task would be. Not bundled: it requires @azure/identity and axios from node_modules.
// Gets a token with ClientSecretCredential, POSTs runJob, then reads the job list every 30 s (the
// period of Microsoft's sample pipeline for this service) until the job's record shows
// actionResult SUCCESS or FAILED. Naive on purpose: no check that the record is not the previous
// action's (stale) one. It reads the same agent environment variables the bundled tasks read.
"use strict";
const { ClientSecretCredential } = require("@azure/identity");
const axios = require("axios");

const API_VERSION = "2024-05-01-preview";
const PERIOD_MS = 30_000;

function input(name) {
  const value = process.env[`INPUT_${name.toUpperCase()}`];
  if (!value) throw new Error(`Input required: ${name}`);
  return value;
}

async function main() {
  const connection = input("azureSubscription");
  const jobName = input("jobName");
  if (!/^[a-z0-9-]+$/.test(jobName)) throw new Error(`Invalid jobName: ${jobName}`);
  const action = input("action");
  const auth = (key) => process.env[`ENDPOINT_AUTH_PARAMETER_${connection}_${key}`];
  const data = (key) => process.env[`ENDPOINT_DATA_${connection}_${key}`];
  const armUrl = process.env[`ENDPOINT_URL_${connection}`].replace(/\/+$/, "");
  const credential = new ClientSecretCredential(auth("TENANTID"), auth("SERVICEPRINCIPALID"), auth("SERVICEPRINCIPALKEY"), {
    authorityHost: data("ENVIRONMENTAUTHORITYURL"),
    disableInstanceDiscovery: true,
  });
  const token = await credential.getToken(`${armUrl}/.default`);
  const headers = { Authorization: `Bearer ${token.token}` };
  const cluster =
    `${armUrl}/subscriptions/${data("SUBSCRIPTIONID")}` +
    `/resourceGroups/${input("resourceGroupName")}/providers/Microsoft.HDInsight/clusterpools/${input("clusterPoolName")}` +
    `/clusters/${input("clusterName")}`;

  await axios.post(`${cluster}/runJob?api-version=${API_VERSION}`, { properties: { jobType: "FlinkJob", jobName, action } }, { headers });
  console.log(`Posted ${action} for ${jobName}`);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, PERIOD_MS));
    const { data } = await axios.get(`${cluster}/jobs?api-version=${API_VERSION}`, { headers });
    const job = (data.value || []).find((j) => j.properties.jobName === jobName);
    const result = job && job.properties.actionResult;
    console.log(`${jobName}: ${result}`);
    if (result === "SUCCESS" || result === "FAILED") process.exit(result === "SUCCESS" ? 0 : 1);
  }
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
