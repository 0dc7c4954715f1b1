/** One HTTP write of a line-protocol body; failures are `WriteFailure`s (see retry-policy). */
export interface LineTransport {
  /** For logs and messages: where the points go (never includes credentials). */
  readonly destination: string;
  /** Sends one batch; resolves on 2xx, rejects with a WriteFailure otherwise (also when `signal` aborts). */
  send(body: string, points: number, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
