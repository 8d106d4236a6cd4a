import { Agent, get } from "node:https";
import { rootCertificates } from "node:tls";
import type * as Acme from "acme-client";
import type { AcmeChallenges } from "./acme-challenges.js";
import type { PemPair } from "./acme-store.js";

/** How far an order got: says what went wrong, and so what to do. */
export type OrderStage = "directory" | "account" | "order" | "validation" | "finalize";

/** An order that did not end in a certificate, with the step it failed at and the CA's own words. */
export class AcmeOrderError extends Error {
  readonly stage: OrderStage;

  constructor(stage: OrderStage, cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "AcmeOrderError";
    this.stage = stage;
  }
}

export interface OrderRequest {
  readonly directory: string;
  /** The certificate's names; the first is its subject. */
  readonly domains: readonly string[];
  readonly email: string | null;
  readonly accountKey: string;
  /** Where the http-01 answers are put for the router's port-80 listener to serve. */
  readonly challenges: AcmeChallenges;
  /** PEM roots trusted (besides Node's own) for the directory's HTTPS: a private CA's. */
  readonly directoryCa: string | null;
  /** Longest wait for one answer of the CA (a directory that accepts and never answers). */
  readonly requestTimeoutMs: number;
  /** First wait between two looks at a pending challenge or order (doubles, up to 10 s). */
  readonly pollMs: number;
  /** Told the terms of service URL the account agrees to (null: the CA publishes none). */
  readonly onTerms: (url: string | null) => void;
}

/**
 * Orders one certificate for `domains` over http-01 (RFC 8555): reads the directory, registers the account
 * (or finds it: the same key is the same account), places the order, answers each name's challenge through
 * `challenges` and waits for the CA to have checked it, then sends a CSR for a new ECDSA P-256 key and
 * downloads the chain. Agreeing to the CA's terms is part of configuring router.tls.acme (as kamal-proxy,
 * Caddy and certbot --agree-tos do); the terms URL is handed to `onTerms` to be logged.
 */
export async function orderCertificate(request: OrderRequest): Promise<PemPair> {
  const agent =
    request.directoryCa === null ? null : new Agent({ ca: [...rootCertificates, request.directoryCa] });
  // acme-client (and its axios) takes about 0.4 CPU-s to load: only a router that orders certificates loads it.
  const acme = await import("acme-client");
  const stopTrusting = trustDirectory(acme.axios, request, agent);
  let stage: OrderStage = "directory";
  try {
    await probeDirectory(request, agent);
    const client = new acme.Client({
      directoryUrl: request.directory,
      accountKey: request.accountKey,
      backoffMin: request.pollMs,
      backoffMax: 10_000,
      backoffAttempts: 15,
    });
    const terms = await client.getTermsOfServiceUrl();
    stage = "account";
    request.onTerms(terms ?? null);
    await client.createAccount({
      termsOfServiceAgreed: true,
      ...(request.email ? { contact: [`mailto:${request.email}`] } : {}),
    });
    stage = "order";
    const order = await client.createOrder({
      identifiers: request.domains.map((value) => ({ type: "dns", value })),
    });
    const authorizations = await client.getAuthorizations(order);
    stage = "validation";
    await Promise.all(authorizations.map((authz) => validate(client, authz, request.challenges)));
    stage = "finalize";
    const key = (await acme.crypto.createPrivateEcdsaKey()).toString();
    const [, csr] = await acme.crypto.createCsr(
      { commonName: request.domains[0] as string, altNames: [...request.domains] },
      key,
    );
    const finalized = await client.finalizeOrder(order, csr);
    return { cert: await client.getCertificate(finalized), key };
  } catch (error) {
    throw new AcmeOrderError(stage, hiddenNetworkError(error));
  } finally {
    stopTrusting();
    agent?.destroy();
  }
}

/**
 * GETs the directory once with Node's own client, so that a directory that cannot be reached fails with
 * the reason (refused, timed out, untrusted certificate, not found): acme-client would retry it for over a
 * minute and then report a TypeError of its own instead (publishlab/node-acme-client#101).
 */
function probeDirectory(request: OrderRequest, agent: Agent | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = get(
      request.directory,
      { ...(agent ? { agent } : {}), timeout: request.requestTimeoutMs },
      (res) => {
        res.resume();
        if (res.statusCode === 200) resolve();
        else reject(new Error(`it answered HTTP ${res.statusCode}, not the directory`));
      },
    );
    req.once("timeout", () =>
      req.destroy(new Error(`no answer within ${request.requestTimeoutMs / 1000} s`)),
    );
    req.once("error", reject);
  });
}

/** acme-client's TypeError for a request that got no answer (publishlab/node-acme-client#101), said plainly. */
function hiddenNetworkError(error: unknown): unknown {
  return error instanceof TypeError && error.message.includes("reading 'config'")
    ? new Error("the CA did not answer (connection refused, cut or timed out)")
    : error;
}

/** Answers one name's http-01 challenge and waits until the CA has checked it (already valid: nothing to do). */
async function validate(
  client: Acme.Client,
  authz: Acme.Authorization,
  challenges: AcmeChallenges,
): Promise<void> {
  if (authz.status === "valid") return;
  const challenge = authz.challenges.find((c) => c.type === "http-01");
  if (!challenge)
    throw new Error(
      `the CA offers no http-01 challenge for ${authz.identifier.value}, the only one cutover answers`,
    );
  challenges.add(challenge.token, await client.getChallengeKeyAuthorization(challenge));
  try {
    await client.completeChallenge(challenge);
    await client.waitForValidStatus(challenge);
  } catch (error) {
    // A failed authorization left pending would count against the CA's limits on pending authorizations.
    await client.deactivateAuthorization(authz).catch(() => {});
    throw new Error(`${authz.identifier.value}: ${(error as Error).message}`);
  } finally {
    challenges.remove(challenge.token);
  }
}

/**
 * acme-client sends through one shared axios instance with no timeout: for the length of this order, its
 * requests get one (a directory that accepts and never answers fails instead of hanging), and those to the
 * directory's host trust `directoryCa` besides Node's own roots.
 */
function trustDirectory(axios: typeof Acme.axios, request: OrderRequest, agent: Agent | null): () => void {
  const host = new URL(request.directory).host;
  const id = axios.interceptors.request.use((config) => {
    config.timeout ||= request.requestTimeoutMs;
    if (agent !== null && config.url && new URL(config.url).host === host) config.httpsAgent = agent;
    return config;
  });
  return () => axios.interceptors.request.eject(id);
}
