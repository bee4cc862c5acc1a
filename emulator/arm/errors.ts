import type { Reply } from "../http";

/** An ARM-shaped failure: {"error":{"code","message","target"?,"details"?}}. */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly target?: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  toReply(): Reply {
    const error: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.target !== undefined) error["target"] = this.target;
    return { status: this.status, json: { error }, ...(this.headers ? { headers: this.headers } : {}) };
  }
}

export function invalidContent(target: string, message: string): ArmError {
  return new ArmError(400, "InvalidRequestContent", message, target);
}

/** Generic bodies for injected transient failures, in ARM's words. */
export function transientArmError(status: number): { code: string; message: string } {
  switch (status) {
    case 429:
      return {
        code: "TooManyRequests",
        message: "The request is being throttled as the limit has been reached for operation type - Write_ObservationWindow_00:05:00. For more information, see - https://aka.ms/srpthrottlinglimits",
      };
    case 500:
      return { code: "InternalServerError", message: "Encountered internal server error. Diagnostic information: timestamp '" + new Date().toISOString() + "'." };
    case 502:
      return { code: "BadGateway", message: "The gateway did not receive a response from 'Microsoft.HDInsight' within the specified time period." };
    case 503:
      return { code: "ServiceUnavailable", message: "The service is currently unavailable. Please retry the request later." };
    case 504:
      return { code: "GatewayTimeout", message: "The gateway did not receive a response from 'Microsoft.HDInsight' within the specified time period." };
    default:
      return { code: `Http${status}`, message: `Injected HTTP ${status}.` };
  }
}
