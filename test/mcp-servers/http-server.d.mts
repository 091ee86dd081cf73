export interface RecordedRequest {
  method: string | undefined;
  path: string;
  headers: Record<string, string | string[] | undefined>;
}
export interface StartedTestMcpServer {
  url: string;
  port: number;
  close(): Promise<void>;
  requests: RecordedRequest[];
}
export declare function startStreamableHttpMcpServer(opts?: {
  host?: string;
  port?: number;
  path?: string;
  mode?: "stateless" | "session";
  requiredAuthorization?: string;
}): Promise<StartedTestMcpServer>;
export declare function startSseMcpServer(opts?: {
  host?: string;
  port?: number;
  requiredAuthorization?: string;
}): Promise<StartedTestMcpServer>;
