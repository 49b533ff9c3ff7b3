// A small server-rendered news page on plain node:http, built only on the
// newsdesk TypeScript client. Start: NEWSDESK_URL=http://127.0.0.1:8080 npm start
//
//   /                      latest stories + Most Viewed / Most Commented
//   /articles/{slug}       the article (an old slug redirects to the current one)
//   /tags/{slug}           stories with a tag, older ones by cursor (?after=)
//   /authors/{slug}        stories by an author
//
// Environment: NEWSDESK_URL (API origin for this server), NEWSDESK_PUBLIC_URL
// (API origin as the reader's browser reaches it, for the view beacon;
// defaults to NEWSDESK_URL), PORT (default 3000), HOST (default 127.0.0.1).

import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { pathToFileURL } from "node:url";
import { createNewsdeskClient, isProblemError, type NewsdeskClient } from "@newsdesk/client";
import {
  articleBody,
  articleList,
  authorHeader,
  beaconScript,
  errorBody,
  layout,
  moreLink,
  type Sidebar,
  tagHeader,
} from "./html.js";

export interface NewsPageOptions {
  apiUrl: string;
  publicApiUrl?: string;
}

const PER_PAGE = 10;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function cursorFrom(url: URL): string | undefined {
  const after = url.searchParams.get("after");
  return after ? after : undefined;
}

export function createNewsPage(options: NewsPageOptions) {
  const api: NewsdeskClient = createNewsdeskClient({ baseUrl: options.apiUrl });
  const publicApi = options.publicApiUrl ?? options.apiUrl;
  const apiOrigin = new URL(publicApi).origin;

  async function sidebar(): Promise<Sidebar> {
    const [mostViewed, mostCommented] = await Promise.all([
      api.popular({ metric: "views", period: "week", limit: 5 }),
      api.popular({ metric: "comments", period: "week", limit: 5 }),
    ]);
    return { mostViewed, mostCommented };
  }

  async function render(url: URL, nonce: string): Promise<{ status: number; html?: string; location?: string }> {
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);

    if (parts.length === 0) {
      const [page, side] = await Promise.all([api.list("/api/v1/articles", { query: { per_page: PER_PAGE, after: cursorFrom(url) } }), sidebar()]);
      return {
        status: 200,
        html: layout(`<h1>Latest</h1>${articleList(page.data)}${moreLink("/", page.meta.next_cursor)}`, { title: "The Newsdesk Times", nonce, sidebar: side }),
      };
    }

    const [kind, slug] = parts;
    if (parts.length !== 2 || slug === undefined) throw new HttpError(404, "No such page.");

    if (kind === "articles") {
      const [article, side] = await Promise.all([api.getArticleBySlug(slug), sidebar()]);
      if (article.slug !== slug) return { status: 301, location: `/articles/${encodeURIComponent(article.slug)}` };
      return {
        status: 200,
        html: layout(articleBody(article), {
          title: article.meta_title ?? article.title,
          description: article.meta_description ?? article.excerpt,
          nonce,
          sidebar: side,
          tail: beaconScript(publicApi, article.id, nonce),
        }),
      };
    }

    if (kind === "tags") {
      const [tag, page, side] = await Promise.all([
        api.getTag(slug),
        api.list("/api/v1/articles", { query: { tag: [slug], per_page: PER_PAGE, after: cursorFrom(url) } }),
        sidebar(),
      ]);
      return {
        status: 200,
        html: layout(`${tagHeader(tag)}${articleList(page.data)}${moreLink(`/tags/${encodeURIComponent(tag.slug)}`, page.meta.next_cursor)}`, {
          title: `${tag.name} — The Newsdesk Times`,
          description: tag.description,
          nonce,
          sidebar: side,
        }),
      };
    }

    if (kind === "authors") {
      const [author, page, side] = await Promise.all([
        api.getAuthor(slug),
        api.list("/api/v1/articles", { query: { author: slug, per_page: PER_PAGE, after: cursorFrom(url) } }),
        sidebar(),
      ]);
      return {
        status: 200,
        html: layout(`${authorHeader(author)}${articleList(page.data)}${moreLink(`/authors/${encodeURIComponent(author.slug)}`, page.meta.next_cursor)}`, {
          title: `${author.name} — The Newsdesk Times`,
          description: author.bio,
          nonce,
          sidebar: side,
        }),
      };
    }

    throw new HttpError(404, "No such page.");
  }

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const nonce = randomBytes(16).toString("base64");
    res.setHeader(
      "Content-Security-Policy",
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; img-src * data:; connect-src ${apiOrigin}; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    );
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Referrer-Policy", "strict-origin-when-cross-origin");

    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" });
      res.end("Method not allowed\n");
      return;
    }

    let status = 500;
    let html: string;
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      const out = await render(url, nonce);
      if (out.location) {
        res.writeHead(out.status, { Location: out.location });
        res.end();
        return;
      }
      status = out.status;
      html = out.html ?? "";
    } catch (e) {
      if (e instanceof HttpError) {
        status = e.status;
      } else if (isProblemError(e)) {
        // The API's 404 (and 400 for a malformed slug or cursor) are ours too; anything else is the API's trouble.
        status = e.status === 404 || e.status === 400 ? e.status : 502;
        if (status === 502) console.error(`newsdesk API error: ${e.message}`);
      } else if (e instanceof URIError) {
        status = 400;
      } else {
        console.error(e);
        status = 502;
      }
      const message = status === 404 ? "We could not find that page." : status === 400 ? "That address is not valid." : "Please try again in a moment.";
      html = layout(errorBody(status, message), { title: "The Newsdesk Times", nonce });
    }
    res.writeHead(status, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": status === 200 ? "public, max-age=30" : "no-store" });
    res.end(req.method === "HEAD" ? undefined : html);
  };
}

// Started as a program (not imported by the tests).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const apiUrl = process.env.NEWSDESK_URL ?? "http://127.0.0.1:8080";
  const port = Number(process.env.PORT ?? 3000);
  const host = process.env.HOST ?? "127.0.0.1";
  const handle = createNewsPage({ apiUrl, publicApiUrl: process.env.NEWSDESK_PUBLIC_URL || apiUrl });
  const server = createServer((req, res) => void handle(req, res));
  server.listen(port, host, () => {
    console.log(`news page on http://${host}:${port}/ (API ${apiUrl})`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
