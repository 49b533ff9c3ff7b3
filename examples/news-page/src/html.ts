// HTML for the news page. Every text that comes from the API goes through
// `escapeHtml` (or `attr`); the one exception is the article's `body_html`,
// which the API has already sanitised (no scripts, no `on*=`, no
// `javascript:` URLs) and which the page's Content-Security-Policy fences in
// again (scripts run only with the response's nonce).

import type { Article, ArticleListItem, Author, Tag } from "@newsdesk/client";

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** A path segment for our own links (slugs are ASCII, but never trust that). */
function seg(value: string): string {
  return encodeURIComponent(value);
}

/** "May 16, 2024" in UTC, the way the API stores time. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return d.toLocaleDateString("en-US", { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" });
}

/** "1 View", "1,532 Views". */
export function viewsText(n: number): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? "View" : "Views"}`;
}

export interface Sidebar {
  mostViewed: ArticleListItem[];
  mostCommented: ArticleListItem[];
}

export interface PageOptions {
  title: string;
  nonce: string;
  sidebar?: Sidebar;
  /** Extra markup for the end of <body> (already safe). */
  tail?: string;
  description?: string | null;
}

const STYLE = `
body{font:16px/1.55 Georgia,serif;margin:0;color:#1a1a1a;background:#fafaf7}
header.site{border-bottom:3px double #1a1a1a;padding:.8rem 1.5rem}
header.site a{color:inherit;text-decoration:none;font:700 1.6rem/1 Georgia,serif}
.wrap{display:flex;gap:2.5rem;max-width:72rem;margin:0 auto;padding:1.5rem}
main{flex:1 1 40rem;min-width:0} aside{flex:0 0 18rem}
h1{font-size:2.1rem;line-height:1.2;margin:.2rem 0}
.subtitle{font-size:1.25rem;color:#444;margin:.3rem 0 1rem}
.meta{font:.9rem/1.4 system-ui,sans-serif;color:#555;border-top:1px solid #ddd;border-bottom:1px solid #ddd;padding:.5rem 0}
.meta a{color:#1a1a1a}
.tags a{display:inline-block;font:.8rem system-ui,sans-serif;background:#eee;border-radius:3px;padding:.15rem .5rem;margin:0 .3rem .3rem 0;color:#1a1a1a;text-decoration:none}
.box{border-top:3px solid #1a1a1a;margin-bottom:2rem} .box h2{font:700 .9rem system-ui,sans-serif;text-transform:uppercase;letter-spacing:.05em}
.box ol{padding-left:1.2rem} .box li{margin:.4rem 0} .box .n{font:.75rem system-ui,sans-serif;color:#666}
.list article{border-bottom:1px solid #ddd;padding:.8rem 0} .list h2{font-size:1.3rem;margin:.2rem 0} .list h2 a{color:inherit}
table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:.2rem .5rem}
`;

export function layout(body: string, options: PageOptions): string {
  const description = options.description ? `<meta name="description" content="${escapeHtml(options.description)}">` : "";
  const aside = options.sidebar ? `<aside>${popularBox("Most Viewed", options.sidebar.mostViewed, "views")}${popularBox("Most Commented", options.sidebar.mostCommented, "comments")}</aside>` : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
${description}
<style nonce="${escapeHtml(options.nonce)}">${STYLE}</style>
</head>
<body>
<header class="site"><a href="/">The Newsdesk Times</a></header>
<div class="wrap"><main>
${body}
</main>${aside}</div>
${options.tail ?? ""}
</body>
</html>
`;
}

export function popularBox(heading: string, items: ArticleListItem[], metric: "views" | "comments"): string {
  const id = metric === "views" ? "most-viewed" : "most-commented";
  const rows = items
    .map((a) => {
      const n = metric === "views" ? viewsText(a.view_count) : `${a.comment_count.toLocaleString("en-US")} ${a.comment_count === 1 ? "Comment" : "Comments"}`;
      return `<li><a href="/articles/${seg(a.slug)}">${escapeHtml(a.title)}</a> <span class="n">${escapeHtml(n)}</span></li>`;
    })
    .join("\n");
  return `<section class="box" id="${id}"><h2>${escapeHtml(heading)}</h2><ol>${rows}</ol></section>`;
}

function tagLinks(tags: { slug: string; name: string }[]): string {
  if (tags.length === 0) return "";
  return `<nav class="tags" aria-label="Tags">${tags.map((t) => `<a rel="tag" href="/tags/${seg(t.slug)}">${escapeHtml(t.name)}</a>`).join("")}</nav>`;
}

function byline(author: { slug: string; name: string }): string {
  return `<span class="byline">By <a rel="author" href="/authors/${seg(author.slug)}">${escapeHtml(author.name)}</a></span>`;
}

function dateline(iso: string | null | undefined): string {
  return iso ? `<time datetime="${escapeHtml(iso)}">${escapeHtml(formatDate(iso))}</time>` : "";
}

export function articleBody(article: Article): string {
  const subtitle = article.subtitle ? `<p class="subtitle">${escapeHtml(article.subtitle)}</p>` : "";
  const image = article.feature_image ? `<img src="${escapeHtml(article.feature_image)}" alt="" style="max-width:100%">` : "";
  return `<article data-article-id="${escapeHtml(article.id)}">
<h1>${escapeHtml(article.title)}</h1>
${subtitle}
<p class="meta">${byline(article.author)} · ${dateline(article.published_at)} · <span class="views">${escapeHtml(viewsText(article.view_count))}</span> · ${escapeHtml(article.reading_time_minutes)} min read</p>
${image}
<div class="body">${article.body_html ?? ""}</div>
${tagLinks(article.tags)}
</article>`;
}

/** The view beacon: counted from the reader's browser, not from this server. */
export function beaconScript(apiBase: string, articleId: number, nonce: string): string {
  const url = `${apiBase.replace(/\/+$/, "")}/api/v1/articles/${articleId}/views`;
  // The URL goes in a data attribute (HTML-escaped), never into JavaScript source.
  return `<script nonce="${escapeHtml(nonce)}" data-beacon="${escapeHtml(url)}">
(function () {
  var url = document.currentScript.getAttribute("data-beacon");
  if (navigator.sendBeacon && navigator.sendBeacon(url)) return;
  fetch(url, { method: "POST", mode: "cors", keepalive: true }).catch(function () {});
})();
</script>`;
}

export function articleList(items: ArticleListItem[]): string {
  if (items.length === 0) return `<p>No articles yet.</p>`;
  return `<div class="list">${items
    .map(
      (a) => `<article>
<h2><a href="/articles/${seg(a.slug)}">${escapeHtml(a.title)}</a></h2>
<p>${escapeHtml(a.excerpt)}</p>
<p class="meta">${byline(a.author)} · ${dateline(a.published_at)} · ${escapeHtml(viewsText(a.view_count))}</p>
</article>`,
    )
    .join("\n")}</div>`;
}

export function tagHeader(tag: Tag): string {
  const description = tag.description ? `<p class="subtitle">${escapeHtml(tag.description)}</p>` : "";
  return `<h1>${escapeHtml(tag.name)}</h1>${description}<p class="meta">${escapeHtml(tag.article_count)} ${tag.article_count === 1 ? "article" : "articles"}</p>`;
}

export function authorHeader(author: Author): string {
  const bio = author.bio ? `<p class="subtitle">${escapeHtml(author.bio)}</p>` : "";
  return `<h1>${escapeHtml(author.name)}</h1>${bio}`;
}

/** "Older stories" link for cursor pagination. */
export function moreLink(path: string, cursor: string | null | undefined): string {
  return cursor ? `<p><a rel="next" href="${escapeHtml(`${path}?after=${encodeURIComponent(cursor)}`)}">Older stories →</a></p>` : "";
}

export function errorBody(status: number, message: string): string {
  return `<h1>${escapeHtml(status === 404 ? "Page not found" : "Something went wrong")}</h1><p>${escapeHtml(message)}</p>`;
}
