package io.github.pulsaroutbox;

import java.time.Instant;

/**
 * An outbox row with its bookkeeping, as operators see it.
 *
 * @param entry         the row's event data, status, attempts and last error
 * @param nextAttemptAt when a pending row is tried again, or {@code null}
 * @param parkedAt      when it was parked, or {@code null}
 * @param sentAt        when the broker's acknowledgement was recorded, or {@code null}
 * @param action        the last operator/policy action ({@code RETRIED}, {@code DISCARDED}) or {@code null}
 * @param actionBy      who took it
 * @param actionAt      when
 * @param actionReason  why
 */
public record OutboxRow(OutboxEntry entry,
                        Instant nextAttemptAt,
                        Instant parkedAt,
                        Instant sentAt,
                        String action,
                        String actionBy,
                        Instant actionAt,
                        String actionReason) {
}
