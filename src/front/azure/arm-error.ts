import { CutoverError } from "../../errors.js";

/*
 * What Azure Resource Manager's refusals mean for a person running a fleet deploy. The SDK throws a
 * RestError with the HTTP status and, from ARM's body `{ error: { code, message } }` (REST reference,
 * CloudError), the code and message; @azure/identity throws CredentialUnavailableError or
 * AuthenticationError when it has no token to give. Each becomes a CutoverError that says what to do.
 */

export interface ArmScope {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly profile: string;
  /** ARM's address, for "could not reach". */
  readonly armEndpoint: string;
}

interface RestErrorLike {
  readonly statusCode?: number;
  readonly code?: string;
  readonly message: string;
}

/** `error` from a call that tried to `action` (e.g. 'disable the endpoint "eu"'), as a CutoverError. */
export function armFailure(error: unknown, action: string, scope: ArmScope, endpoint?: string): CutoverError {
  if (error instanceof CutoverError) return error;
  const e = asRestError(error);
  const said = `${e.statusCode ?? ""} ${e.code ?? ""}: ${e.message}`.trim();
  const group = `/subscriptions/${scope.subscriptionId}/resourceGroups/${scope.resourceGroup}`;
  if (
    e.name === "CredentialUnavailableError" ||
    e.name === "AuthenticationError" ||
    e.name === "AggregateAuthenticationError"
  )
    return new CutoverError(
      "TRAFFIC_MANAGER_API",
      `no Azure credential to ${action} (${e.message.split("\n")[0]}); sign in with \`az login\`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or a federated token) for a service principal, or run with a managed identity`,
    );
  if (e.statusCode === 401)
    return new CutoverError(
      "TRAFFIC_MANAGER_API",
      `Azure Resource Manager did not accept the credential's token when cutover tried to ${action} (${said}); sign in again (\`az login\`), or check the service principal's tenant, client id and secret`,
    );
  if (e.statusCode === 403)
    return new CutoverError(
      "TRAFFIC_MANAGER_API",
      `the credential may not ${action} (${said}); give it the "Traffic Manager Contributor" role on ${group} (az role assignment create --role "Traffic Manager Contributor" --scope ${group} --assignee <its id>)`,
    );
  if (e.statusCode === 404) return missing(e, said, scope, endpoint);
  if (e.statusCode === undefined)
    return new CutoverError(
      "TRAFFIC_MANAGER_API",
      `could not reach Azure Resource Manager at ${scope.armEndpoint} to ${action} (${e.message}); check this machine's network and proxy settings, or globalFront.armEndpoint`,
    );
  return new CutoverError(
    "TRAFFIC_MANAGER_API",
    `Azure Resource Manager refused to ${action} (${said}); try again, and if it persists check the profile in the Azure portal`,
  );
}

function missing(
  e: RestErrorLike,
  said: string,
  scope: ArmScope,
  endpoint: string | undefined,
): CutoverError {
  const where = `resource group ${scope.resourceGroup} of subscription ${scope.subscriptionId}`;
  if (e.code === "ResourceGroupNotFound" || e.code === "SubscriptionNotFound")
    return new CutoverError(
      "TRAFFIC_MANAGER_MISSING",
      `${where} does not exist (${said}); check globalFront.subscriptionId and globalFront.resourceGroup, or create the group`,
    );
  const what =
    endpoint === undefined
      ? `the Traffic Manager profile ${scope.profile}`
      : `the external endpoint "${endpoint}" of the Traffic Manager profile ${scope.profile}`;
  return new CutoverError(
    "TRAFFIC_MANAGER_MISSING",
    `${what} is not in ${where} (${said}); run \`cutover render traffic-manager -o traffic-manager.json\` and deploy it (az deployment group create -g ${scope.resourceGroup} --template-file traffic-manager.json)`,
  );
}

function asRestError(error: unknown): RestErrorLike & { readonly name: string } {
  if (error instanceof Error) {
    const { statusCode, code } = error as Error & { statusCode?: unknown; code?: unknown };
    return {
      name: error.name,
      message: error.message,
      ...(typeof statusCode === "number" ? { statusCode } : {}),
      ...(typeof code === "string" ? { code } : {}),
    };
  }
  return { name: "Error", message: String(error) };
}
