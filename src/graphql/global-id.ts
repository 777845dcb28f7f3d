import { MAX_ROW_ID } from '../db/page';
import { badInput } from '../core/errors';

/** The object types reachable through `Query.node`. */
export type NodeTypeName = 'Region' | 'Department' | 'ResourceDirectory' | 'Mount' | 'SubscriptionRequest' | 'ApiKey' | 'Webhook' | 'WebhookDelivery';
const NODE_TYPES: readonly NodeTypeName[] = [
  'Region',
  'Department',
  'ResourceDirectory',
  'Mount',
  'SubscriptionRequest',
  'ApiKey',
  'Webhook',
  'WebhookDelivery',
];

/** Relay global ID: base64url of "Type:key", opaque to clients. */
export function toGlobalId(type: NodeTypeName, key: string | number): string {
  return Buffer.from(`${type}:${key}`, 'utf8').toString('base64url');
}

export function fromGlobalId(id: string): { type: NodeTypeName; key: string } {
  const decoded = Buffer.from(id, 'base64url').toString('utf8');
  const colon = decoded.indexOf(':');
  const type = decoded.slice(0, colon) as NodeTypeName;
  const key = decoded.slice(colon + 1);
  if (colon < 1 || !NODE_TYPES.includes(type) || key === '' || toGlobalId(type, key) !== id.replace(/=+$/, '')) {
    throw badInput(`"${id}" is not a valid ID.`);
  }
  return { type, key };
}

/** The row id in the key of a global ID: decimal digits, 1 to MAX_ROW_ID; null for anything else. */
export function rowIdOfKey(key: string): number | null {
  if (!/^\d{1,10}$/.test(key)) return null;
  const n = Number(key);
  return n >= 1 && n <= MAX_ROW_ID ? n : null;
}

/** Numeric database id out of a global ID of the expected type. */
export function numericIdOf(id: string, expected: NodeTypeName): number {
  const { type, key } = fromGlobalId(id);
  const n = rowIdOfKey(key);
  if (type !== expected || n === null) {
    throw badInput(`"${id}" is not the ID of a ${expected}.`);
  }
  return n;
}
