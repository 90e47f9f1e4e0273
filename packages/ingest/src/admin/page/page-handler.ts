import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '@kafka-throttle/common';
import type { DeliveryHistory } from './delivery-history.ts';
import type { PageAssets } from './page-assets.ts';

export interface PageHandlerDeps {
  /** The admin API, for every request the page does not answer. */
  api: RequestListener;
  authorized: (header: string | undefined) => boolean;
  history: Pick<DeliveryHistory, 'snapshot'>;
  assets: () => Promise<PageAssets>;
  logger: Logger;
}

// The page only talks to its own origin; nothing inline, nothing from elsewhere.
const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/**
 * The live page on the admin port. The page and its assets are public (they hold no data: the
 * page asks for the token and sends it as a bearer header); `GET /history` is behind the token
 * like the rest of the admin API.
 */
export function createPageHandler(deps: PageHandlerDeps): RequestListener {
  let assets: Promise<PageAssets> | undefined;
  const loaded = (): Promise<PageAssets> => {
    assets ??= deps.assets().catch((error: unknown) => {
      assets = undefined;
      throw error;
    });
    return assets;
  };

  return (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    const asset = ASSETS[path ?? ''];
    if (req.method === 'GET' && asset !== undefined) {
      loaded().then(
        (files) => send(res, 200, asset.type, files[asset.key]),
        (error: unknown) => {
          deps.logger.error({ err: error, path }, 'could not build the page');
          sendError(res, 500, 'internal_error', 'the page could not be built');
        },
      );
      return;
    }
    if (req.method === 'GET' && path === '/history') {
      if (!deps.authorized(req.headers.authorization)) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        sendError(res, 401, 'unauthorized', 'a valid bearer token is required');
        return;
      }
      send(res, 200, 'application/json', JSON.stringify(deps.history.snapshot()));
      return;
    }
    deps.api(req, res);
  };
}

const ASSETS: Record<string, { key: keyof PageAssets; type: string }> = {
  '/ui/': { key: 'html', type: 'text/html; charset=utf-8' },
  '/ui': { key: 'html', type: 'text/html; charset=utf-8' },
  '/ui/app.js': { key: 'script', type: 'text/javascript; charset=utf-8' },
  '/ui/uplot.css': { key: 'style', type: 'text/css; charset=utf-8' },
};

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  send(res, status, 'application/json', JSON.stringify({ error: { code, message } }));
}
