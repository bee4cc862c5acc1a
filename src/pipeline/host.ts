import type { ServiceConnection } from "../azure/credentials";
import type { NetworkSettings } from "../azure/network";
import type { Logger } from "../util/logger";

/** A service connection read generically: what the agent gives for any endpoint type. */
export interface EndpointConnection {
  id: string;
  url: string;
  /** The agent's scheme name: None, UsernamePassword, … */
  scheme: string;
  /** Authorization parameters (username, password, …), keys as the agent gives them. */
  parameters: Record<string, string>;
  /** Connection data (ApacheFlink: caCertificate, allowInsecureHttp). */
  data?: Record<string, string>;
}

/**
 * What the flow needs from the pipeline. AgentHost implements it with task-lib, and it is the
 * only implementation that ships: the local pipeline runner and the end-to-end tests run the
 * bundled tasks as the agent does, so they go through AgentHost too. The flow's in-memory tests
 * give their own.
 */
export interface PipelineHost {
  /** A task input's raw value (undefined when unset). */
  input(name: string): string | undefined;
  /** The service connection a `connectedService:AzureRM` input names. */
  serviceConnection(inputName: string): ServiceConnection;
  /**
   * A service connection of a generic kind (ApacheFlink): its URL, authorization scheme and
   * parameters. Secret parameters are registered as secrets before this returns.
   */
  endpoint(inputName: string, dataKeys?: string[]): EndpointConnection;
  /** The pipeline's working directory, where relative file inputs (jarFile) are found. */
  workingDirectory(): string;
  /** Proxy and CA settings for the given URLs. */
  network(armUrl: string, authorityUrl: string): NetworkSettings;
  /** Every message may hold service or user text: implementations neutralise logging commands. */
  logger: Logger;
  /** Masks a value in the log from now on. */
  setSecret(value: string): void;
  /** Sets an output variable (isOutput=true). */
  setOutput(name: string, value: string): void;
  /** Attaches Markdown to the run as a summary tab. */
  uploadSummary(title: string, markdown: string): void;
  /** Task name and version, for the User-Agent. */
  readonly userAgent: string;
}
