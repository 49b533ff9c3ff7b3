// The hand-written layer over the generated types and openapi-fetch: what
// every front end needs and should not write again.
//
// - sign-in, sign-out, and a session (access + refresh token) kept here;
// - on a 401, one refresh with rotation (a single refresh in flight however
//   many requests failed at once) and one retry of the original request;
// - ETag/If-Match: the ETag of an authenticated GET is remembered per URL and
//   sent as `If-Match` on the next PATCH/PUT/DELETE of that URL, and a
//   successful PATCH remembers the new ETag, so a stale edit is a 412;
// - lists: the `{data, meta}` envelope with `X-Total-Count` and `Link`, and
//   async iteration over every item by cursor (`meta.next_cursor` → `after`);
// - errors: every non-2xx answer becomes a `ProblemError`.
//
// It relies on paths and schema names of openapi/openapi.json, never on
// operationIds, so regenerating the types is all an API change takes.

import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";
import { ProblemError } from "./errors.js";

export type Schemas = components["schemas"];

// The resource types come from the paths that answer them (not from schema
// names or operationIds), so renaming a schema in the document changes nothing here.
type Json<C> = C extends object ? C[Extract<keyof C, `${string}json${string}`>] : never;
type JsonBody<Op, Code extends number> = Op extends { responses: { [K in Code]: { content: infer C } } } ? Json<C> : never;
type JsonRequest<Op> = Op extends { requestBody?: { content: infer C } } ? Json<C> : never;
type Op<P extends keyof paths, M extends "get" | "post" | "patch"> = NonNullable<paths[P][M]>;

export type Article = JsonBody<Op<"/api/v1/articles/{id}", "get">, 200>;
export type ArticleListItem = JsonBody<Op<"/api/v1/articles", "get">, 200>["data"][number];
export type Tag = JsonBody<Op<"/api/v1/tags/{slug}", "get">, 200>;
export type Author = JsonBody<Op<"/api/v1/authors/{slug}", "get">, 200>;
export type User = JsonBody<Op<"/api/v1/auth/me", "get">, 200>;
export type Comment = JsonBody<Op<"/api/v1/articles/{id}/comments", "get">, 200>["data"][number];
export type PageMeta = JsonBody<Op<"/api/v1/articles", "get">, 200>["meta"];
export type TokenResponse = JsonBody<Op<"/api/v1/auth/login", "post">, 200>;
export type CreateArticle = JsonRequest<Op<"/api/v1/articles", "post">>;
export type UpdateArticle = JsonRequest<Op<"/api/v1/articles/{id}", "patch">>;
export type PopularQuery = NonNullable<Op<"/api/v1/articles/popular", "get">["parameters"]["query"]>;

/** The tokens of a signed-in user. */
export interface Session {
  accessToken: string;
  refreshToken: string;
  /** The user as of sign-in or the last refresh. */
  user?: User;
}

export interface NewsdeskClientOptions {
  /** Origin of the API, e.g. `http://127.0.0.1:8080` (paths carry `/api/v1`). */
  baseUrl: string;
  /** A session to resume (e.g. read from storage). */
  session?: Session | null;
  /** Called whenever the session changes (sign-in, refresh, sign-out, refresh failure → null): persist it here. */
  onSession?: (session: Session | null) => void;
  /** The fetch to use (defaults to the global one). */
  fetch?: (request: Request) => Promise<Response>;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
}

// ---- list typing, derived from the paths (no operationIds) -------------

type Json200<Op> = JsonBody<Op, 200>;
type GetOp<P extends keyof paths> = NonNullable<paths[P]["get"]>;
type IsList<B> = [B] extends [never] ? false : B extends { data: unknown[]; meta: PageMeta } ? true : false;

/** Every GET path that answers the list envelope `{data, meta}`. */
export type ListPath = { [P in keyof paths]: IsList<Json200<GetOp<P>>> extends true ? P : never }[keyof paths];
/** The item type of a list path. */
export type ListItem<P extends ListPath> = Json200<GetOp<P>> extends { data: (infer T)[] } ? T : never;
/** The parameters (`path`, `query`) of a list path. */
export type ListParams<P extends ListPath> = GetOp<P> extends { parameters: infer X } ? X : never;
/** The query of a list path. */
export type ListQuery<P extends ListPath> = ListParams<P> extends { query?: infer Q } ? NonNullable<Q> : never;

/** One page of a list. */
export interface ListPage<T> {
  data: T[];
  meta: PageMeta;
  /** `X-Total-Count`, when sent. */
  totalCount: number | null;
  /** The `Link` header by relation (`next`, `prev`, `first`, `last`). */
  links: Record<string, string>;
}

/** What openapi-fetch resolves to. */
interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Returns the data of a successful call, or throws its `ProblemError`. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (!result.response.ok) throw ProblemError.from(result.error, result.response);
  return result.data as T;
}

/** Parses an RFC 8288 `Link` header into `{rel: url}`. */
export function parseLinkHeader(value: string | null): Record<string, string> {
  const links: Record<string, string> = {};
  if (!value) return links;
  for (const part of value.split(/,(?=\s*<)/)) {
    const m = /<([^>]*)>\s*;(.*)/.exec(part.trim());
    if (!m || m[1] === undefined || m[2] === undefined) continue;
    const rel = /rel="?([^";]+)"?/.exec(m[2]);
    if (rel?.[1]) for (const r of rel[1].split(/\s+/)) links[r] = m[1];
  }
  return links;
}

const AUTH_PATHS = /\/auth\/(login|refresh|register|logout)$/;
const EDIT_METHODS = new Set(["PATCH", "PUT", "DELETE"]);

export class NewsdeskClient {
  /** The typed openapi-fetch client: `api.GET("/api/v1/tags/{slug}", {params: {path: {slug}}})`. Auth, refresh and ETags apply to it. */
  readonly api: Client<paths>;

  #session: Session | null;
  #refreshing: Promise<boolean> | null = null;
  readonly #etags = new Map<string, string>();
  readonly #fetch: (request: Request) => Promise<Response>;
  readonly #onSession: ((session: Session | null) => void) | undefined;

  constructor(options: NewsdeskClientOptions) {
    this.#session = options.session ?? null;
    this.#onSession = options.onSession;
    this.#fetch = options.fetch ?? ((request) => globalThis.fetch(request));
    this.api = createClient<paths>({
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
      fetch: (request) => this.#send(request),
      ...(options.headers ? { headers: options.headers } : {}),
    });
  }

  // ---- session -------------------------------------------------------

  /** The current session, or null when signed out. */
  get session(): Session | null {
    return this.#session;
  }

  /** Replaces the session (e.g. one restored from storage). */
  setSession(session: Session | null): void {
    this.#session = session;
    this.#onSession?.(session);
  }

  /** Signs in; wrong email or password is a `ProblemError` with status 401. */
  async login(email: string, password: string): Promise<User> {
    const tokens = unwrap(await this.api.POST("/api/v1/auth/login", { body: { email, password } }));
    this.#adopt(tokens);
    return tokens.user;
  }

  /** Signs out: revokes the sign-in on the server (best effort) and forgets the session. */
  async logout(): Promise<void> {
    const session = this.#session;
    this.setSession(null);
    this.#etags.clear();
    if (!session) return;
    const result = await this.api.POST("/api/v1/auth/logout", { body: { refresh_token: session.refreshToken } });
    // 401: the token was already revoked or expired, which is what we wanted.
    if (!result.response.ok && result.response.status !== 401) throw ProblemError.from(result.error, result.response);
  }

  /** The signed-in user. */
  async me(): Promise<User> {
    return unwrap(await this.api.GET("/api/v1/auth/me"));
  }

  /**
   * Exchanges the refresh token for a new pair (rotation). Concurrent calls
   * share one request. Resolves false (and clears the session) when the
   * server refuses the refresh token.
   */
  refresh(): Promise<boolean> {
    if (!this.#refreshing) {
      this.#refreshing = this.#doRefresh().finally(() => {
        this.#refreshing = null;
      });
    }
    return this.#refreshing;
  }

  async #doRefresh(): Promise<boolean> {
    const session = this.#session;
    if (!session) return false;
    const result = await this.api.POST("/api/v1/auth/refresh", { body: { refresh_token: session.refreshToken } });
    if (result.response.ok && result.data) {
      this.#adopt(result.data);
      return true;
    }
    if (result.response.status === 401 || result.response.status === 400 || result.response.status === 422) {
      // Expired, revoked, or already rotated (then the server revoked the whole family).
      if (this.#session === session) this.setSession(null);
      return false;
    }
    throw ProblemError.from(result.error, result.response);
  }

  #adopt(tokens: TokenResponse): void {
    this.setSession({ accessToken: tokens.access_token, refreshToken: tokens.refresh_token, user: tokens.user });
  }

  // ---- ETags ------------------------------------------------------------

  /** The ETag remembered for a URL path (e.g. `/api/v1/articles/42`), if any. */
  etagFor(path: string): string | undefined {
    return this.#etags.get(path);
  }

  /** Forgets every remembered ETag. */
  forgetEtags(): void {
    this.#etags.clear();
  }

  // ---- the fetch every request goes through ------------------------------

  async #send(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const key = url.pathname;
    const method = request.method.toUpperCase();

    if (EDIT_METHODS.has(method) && !request.headers.has("if-match")) {
      const etag = this.#etags.get(key);
      if (etag) request.headers.set("if-match", etag);
    }

    // Token-bearing requests only: the auth endpoints take tokens in the body,
    // and a caller-supplied Authorization (e.g. an integration key) is left alone.
    const managed = !AUTH_PATHS.test(key) && !request.headers.has("authorization");
    const used = managed ? this.#session?.accessToken : undefined;
    if (used) request.headers.set("authorization", `Bearer ${used}`);
    const retry = used ? request.clone() : null;

    let response = await this.#fetch(request);

    if (response.status === 401 && retry && this.#session) {
      // Another request may have refreshed already; refresh only if not.
      const fresh = this.#session.accessToken !== used || (await this.refresh());
      const token = this.#session?.accessToken;
      if (fresh && token) {
        retry.headers.set("authorization", `Bearer ${token}`);
        await response.body?.cancel();
        response = await this.#fetch(retry);
      }
    }

    const authenticated = request.headers.has("authorization");
    const etag = response.headers.get("etag");
    if (response.ok) {
      if (method === "DELETE") {
        this.#etags.delete(key);
      } else if (etag && authenticated && (method === "GET" || EDIT_METHODS.has(method))) {
        // Anonymous GETs get a content ETag that PATCH would not accept: only
        // remember those of authenticated reads and of edits.
        this.#etags.set(key, etag);
      }
    }
    return response;
  }

  // ---- lists ----------------------------------------------------------------

  /** One page of any list (`page`/`per_page` or `after`). */
  async list<P extends ListPath>(path: P, params?: ListParams<P>): Promise<ListPage<ListItem<P>>> {
    const get = this.api.GET as unknown as (
      path: string,
      init: { params?: unknown },
    ) => Promise<FetchResult<{ data: ListItem<P>[]; meta: PageMeta }>>;
    const result = await get(path, { params: params ?? {} });
    const body = unwrap(result);
    const total = result.response.headers.get("x-total-count");
    return {
      data: body.data,
      meta: body.meta,
      totalCount: total === null ? null : Number(total),
      links: parseLinkHeader(result.response.headers.get("link")),
    };
  }

  /** Every page of a list, following `meta.next_cursor` as `after`. */
  async *pages<P extends ListPath>(path: P, params?: ListParams<P>): AsyncGenerator<ListPage<ListItem<P>>, void, undefined> {
    const base = (params ?? {}) as { query?: Record<string, unknown> };
    let after: string | undefined;
    for (;;) {
      const query: Record<string, unknown> = { ...(base.query ?? {}), ...(after === undefined ? {} : { after }) };
      delete query.page;
      const page = await this.list(path, { ...base, query } as ListParams<P>);
      yield page;
      const next = page.meta.next_cursor;
      // A cursor that does not move would loop forever: stop instead.
      if (!next || next === after || page.data.length === 0) return;
      after = next;
    }
  }

  /** Every item of a list, page after page by cursor: `for await (const a of client.iterate("/api/v1/articles", {query: {tag: ["x"]}}))`. */
  async *iterate<P extends ListPath>(path: P, params?: ListParams<P>): AsyncGenerator<ListItem<P>, void, undefined> {
    for await (const page of this.pages(path, params)) yield* page.data;
  }

  // ---- the calls a news front end makes every time --------------------------

  /** One article by id (its ETag is remembered when signed in). */
  async getArticle(id: number): Promise<Article> {
    return unwrap(await this.api.GET("/api/v1/articles/{id}", { params: { path: { id } } }));
  }

  /** One article by slug (an old slug is followed to the current one). */
  async getArticleBySlug(slug: string): Promise<Article> {
    return unwrap(await this.api.GET("/api/v1/articles/slug/{slug}", { params: { path: { slug } } }));
  }

  /** Creates an article (author+). */
  async createArticle(body: CreateArticle): Promise<Article> {
    const article = unwrap(await this.api.POST("/api/v1/articles", { body }));
    return article;
  }

  /**
   * Edits an article. `If-Match` is the ETag of this client's last
   * authenticated GET or PATCH of it (412 `ProblemError` when someone changed
   * it since); pass `ifMatch` to choose, or `null` to send none.
   */
  async updateArticle(id: number, changes: UpdateArticle, options: { ifMatch?: string | null } = {}): Promise<Article> {
    const key = `/api/v1/articles/${id}`;
    const ifMatch = options.ifMatch === undefined ? this.#etags.get(key) : options.ifMatch;
    if (options.ifMatch === null) this.#etags.delete(key);
    // Typed by assertion so the call compiles whether the document marks
    // If-Match optional or required (the server accepts `version` instead).
    const params = { path: { id }, ...(ifMatch ? { header: { "If-Match": ifMatch } } : {}) } as Op<"/api/v1/articles/{id}", "patch">["parameters"];
    return unwrap(await this.api.PATCH("/api/v1/articles/{id}", { params, body: changes }));
  }

  /** Deletes an article. */
  async deleteArticle(id: number): Promise<void> {
    const result = await this.api.DELETE("/api/v1/articles/{id}", { params: { path: { id } } });
    if (!result.response.ok) throw ProblemError.from(result.error, result.response);
  }

  /** The "Most Viewed" / "Most Commented" box. */
  async popular(query: PopularQuery = {}): Promise<ArticleListItem[]> {
    return unwrap(await this.api.GET("/api/v1/articles/popular", { params: { query } })).data;
  }

  /** Counts one view (the beacon; 202, no body). Usually sent from the browser instead. */
  async countView(id: number): Promise<void> {
    const result = await this.api.POST("/api/v1/articles/{id}/views", { params: { path: { id } } });
    if (!result.response.ok) throw ProblemError.from(result.error, result.response);
  }

  /** One tag by slug. */
  async getTag(slug: string): Promise<Tag> {
    return unwrap(await this.api.GET("/api/v1/tags/{slug}", { params: { path: { slug } } }));
  }

  /** One author by slug. */
  async getAuthor(slug: string): Promise<Author> {
    return unwrap(await this.api.GET("/api/v1/authors/{slug}", { params: { path: { slug } } }));
  }
}

/** Makes a client: `const nd = createNewsdeskClient({baseUrl: "http://127.0.0.1:8080"})`. */
export function createNewsdeskClient(options: NewsdeskClientOptions): NewsdeskClient {
  return new NewsdeskClient(options);
}

// Compile-time guard: if a path above stops answering what we expect, the
// derived type would silently become `never`; make that a compile error.
type NotNever<T> = [T] extends [never] ? false : true;
type Check<T extends true> = T;
type DerivedTypesResolve = [
  Check<NotNever<Article>>,
  Check<NotNever<ArticleListItem>>,
  Check<NotNever<Tag>>,
  Check<NotNever<Author>>,
  Check<NotNever<User>>,
  Check<NotNever<Comment>>,
  Check<NotNever<PageMeta>>,
  Check<NotNever<TokenResponse>>,
  Check<NotNever<CreateArticle>>,
  Check<NotNever<UpdateArticle>>,
  Check<NotNever<ListPath>>,
];
