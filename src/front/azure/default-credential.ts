import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/identity";

/**
 * DefaultAzureCredential (environment variables, workload identity, managed identity, Azure CLI, ...),
 * loaded on the first token asked for: @azure/identity and MSAL are large, and a front given a credential
 * of its own never needs them.
 */
export class LazyDefaultCredential implements TokenCredential {
  #inner: Promise<TokenCredential> | null = null;

  async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    this.#inner ??= import("@azure/identity").then(
      ({ DefaultAzureCredential }) => new DefaultAzureCredential(),
    );
    return (await this.#inner).getToken(scopes, options);
  }
}
