/** What one send to APNs or FCM came to, as the push job acts on it. */

export interface SendResult {
    readonly ok: boolean;
    /** HTTP status, or 0 when no answer came (connection refused, reset, timed out). */
    readonly status: number;
    /** The service's reason (APNs `reason`, FCM `errorCode` or `status`), or the connection error. */
    readonly reason?: string;
    /** Worth another try after a pause: 429, 5xx, no answer. */
    readonly retry: boolean;
    /** The token is dead (APNs 410 / BadDeviceToken, FCM UNREGISTERED): delete it from the shard. */
    readonly unregistered: boolean;
}

export const noAnswer = (error: Error): SendResult => ({ ok: false, status: 0, reason: error.message, retry: true, unregistered: false });

/** What a device's notification says; each sender turns it into its service's payload. */
export interface Notification {
    readonly title?: string;
    readonly body: string;
    /** Coalescing key: a newer notification with it replaces an older one on the device. */
    readonly collapseId: string;
    /** Custom keys for the app (strings only: FCM's data map allows nothing else). */
    readonly data: Readonly<Record<string, string>>;
}

export interface PushSender {
    send(token: string, n: Notification): Promise<SendResult>;
    close(): void;
}
