/**
 * What keeps other machines and other web sites away from the local origin. The server listens on 127.0.0.1
 * only; on top of that, a request must name the origin in its `Host` header (`127.0.0.1:<port>` or
 * `localhost:<port>`), which defeats DNS rebinding: a page served from `evil.example` whose name is later
 * pointed at 127.0.0.1 still sends `Host: evil.example`. State-changing console requests also need an
 * `Origin` of the same origin, so another page open in the browser cannot post to the console.
 * https://developer.mozilla.org/en-US/docs/Web/Security/Attacks/DNS_rebinding (hosts check)
 */
import type { IncomingMessage } from "node:http";

/** Whether `Host` names this origin: `127.0.0.1:<port>` or `localhost:<port>`, nothing else. */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  const lower = host.toLowerCase();
  return lower === `127.0.0.1:${port}` || lower === `localhost:${port}`;
}

/**
 * Whether a browser request comes from a page of this very origin: its `Origin` is `http://<its Host>`, or,
 * when a browser leaves `Origin` out (Chromium run with `--disable-web-security` does), its fetch metadata
 * says `Sec-Fetch-Site: same-origin`. A request with neither (curl, scripts) is not a console page's.
 * https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Sec-Fetch-Site
 */
export function isSameOrigin(req: IncomingMessage, port: number): boolean {
  const host = req.headers.host;
  if (!isLoopbackHost(host, port)) return false;
  const origin = req.headers.origin;
  if (typeof origin === "string") return origin.toLowerCase() === `http://${host!.toLowerCase()}`;
  return req.headers["sec-fetch-site"] === "same-origin";
}
