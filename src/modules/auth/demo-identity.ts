import { generateKeyPair, SignJWT } from 'jose';
import type { JwtSettings } from './authenticator';
import { Role } from '../../core/viewer';

const DEMO_ISSUER = 'https://sso.demo.mulu.local';
const DEMO_AUDIENCE = 'mulu';
const ALGORITHM = 'ES256';

export interface DemoIdentity {
  jwt: JwtSettings;
  tokens: { admin: string; steward: string; viewer: string };
}

/**
 * A stand-in for the unified identity platform in the embedded demo: a key
 * pair made at start (so tokens die with the process) and three signed
 * tokens, one per role, valid for 12 hours.
 */
export async function createDemoIdentity(steward: { creditCode: string; name: string }): Promise<DemoIdentity> {
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM);
  const sign = (claims: Record<string, unknown>, sub: string) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: ALGORITHM })
      .setSubject(sub)
      .setIssuer(DEMO_ISSUER)
      .setAudience(DEMO_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('12h')
      .sign(privateKey);
  return {
    jwt: { key: publicKey, issuer: DEMO_ISSUER, audience: DEMO_AUDIENCE, algorithms: [ALGORITHM] },
    tokens: {
      admin: await sign({ role: Role.ADMIN, name: '平台管理员 (demo)' }, 'demo-admin'),
      steward: await sign({ role: Role.STEWARD, name: `${steward.name}数据管理员 (demo)`, department: steward.creditCode }, 'demo-steward'),
      viewer: await sign({ role: Role.VIEWER, name: '访客 (demo)' }, 'demo-viewer'),
    },
  };
}
