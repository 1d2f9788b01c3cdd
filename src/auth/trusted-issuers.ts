/** An identity provider whose tokens are accepted (JWT_ISSUERS lists several; JWT_ISSUER is one). */
export interface TrustedIssuer {
  /** The exact `iss` its tokens carry. */
  issuer: string;
  /** Its key set. Absent only for this server's own development signer (no provider configured). */
  jwksUrl?: string;
  /** The `aud` its tokens must carry; JWT_AUDIENCE when absent. */
  audience?: string;
  /** Where its tokens carry the tenant (a claim path, see claim-path.ts); JWT_TENANT_CLAIM when absent. */
  tenantClaim?: string;
}

/** The token settings as configured: the simple form (one issuer), or a list of issuers. */
export interface IssuerSettings {
  issuer: string;
  jwksUrl?: string | undefined;
  audience: string;
  tenantClaim?: string;
  /** JWT_ISSUERS: when set, the only issuers trusted (and the simple form's issuer and JWKS are not). */
  issuers?: readonly TrustedIssuer[] | undefined;
}

/** A trusted issuer with the defaults filled in. */
export type ResolvedIssuer = TrustedIssuer & { audience: string };

/** Every issuer trusted, with the defaults filled in. */
export function trustedIssuers(settings: IssuerSettings): ResolvedIssuer[] {
  const listed = settings.issuers ?? [{ issuer: settings.issuer, jwksUrl: settings.jwksUrl }];
  return listed.map((trusted) => ({
    issuer: trusted.issuer,
    ...(trusted.jwksUrl ? { jwksUrl: trusted.jwksUrl } : {}),
    audience: trusted.audience ?? settings.audience,
    ...((trusted.tenantClaim ?? settings.tenantClaim) ? { tenantClaim: trusted.tenantClaim ?? settings.tenantClaim } : {}),
  }));
}

/** Whether tokens are signed by this server's development key: no provider is configured. */
export function usesDevSigner(settings: IssuerSettings): boolean {
  return trustedIssuers(settings).some((trusted) => !trusted.jwksUrl);
}
