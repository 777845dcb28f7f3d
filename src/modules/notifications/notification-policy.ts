/**
 * The operator's notification settings (config.ts), set once by startServer:
 * whether webhooks may reach loopback and private addresses
 * (MULU_WEBHOOK_ALLOW_PRIVATE) and the rate threshold of the
 * RATE_FELL_BELOW / RATE_ROSE_ABOVE events (MULU_RATE_THRESHOLD).
 */
export const notificationPolicy = { allowPrivate: false, rateThreshold: 0.6 };

export function setNotificationPolicy(settings: Partial<typeof notificationPolicy>): void {
  Object.assign(notificationPolicy, settings);
}
