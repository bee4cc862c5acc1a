import nock from "nock";

/**
 * For a suite that needs the real network through a proxy agent: nock intercepts every request
 * of the process once any suite has loaded it, and its interceptor cannot hand a proxy agent's
 * tunnel to the real network ("No socket was returned in the connect() function").
 */
export function withoutNock(): void {
  before(() => nock.restore());
  after(() => nock.activate());
}
