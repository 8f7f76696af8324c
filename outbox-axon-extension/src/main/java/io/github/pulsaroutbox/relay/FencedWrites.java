package io.github.pulsaroutbox.relay;

import io.github.pulsaroutbox.store.OutboxStore;
import org.axonframework.common.transaction.TransactionManager;

import java.util.Set;
import java.util.function.Supplier;

/**
 * The relay's write transactions to outbox rows, and what fences them. With segment claims:
 * <ul>
 *     <li>{@link #write} commits only while this node holds the claims of the segments written:
 *     {@link SegmentClaims#fence} is its last statement, so a node that lost a claim (paused past its timeout, say)
 *     has the write rolled back instead of overwriting what the new owner wrote. Sequence ids, resolution outcomes,
 *     failures and cleared ids go through it.</li>
 *     <li>{@link #recordSent} (acknowledged rows only) is fenced by the local claim validity, which its caller checks
 *     just before the commit, not by the claims in the database: what it writes is true whoever owns the segment now
 *     (a row acknowledged to this node was stored by the broker under this node's producer; a new owner's resolution,
 *     whose producers open only after this node's closed, finds it stored too; the update touches neither the row's
 *     sequence id nor a row that is no longer pending). Fencing it in the database would cost every recording a
 *     statement (and, where the fence updates the token rows, serialize the recorder's commits with the
 *     sequencer's).</li>
 *     <li>Both bound their statements' lock waits and idle time in the transaction ({@link OutboxStore#limitWaits}):
 *     a node frozen inside one holds up the new owner for at most that long. Where those bounds are the
 *     session's (MariaDB), the transaction gives them back last ({@link OutboxStore#restoreWaits}).</li>
 * </ul>
 * Without claims (one relay per outbox) both are plain transactions.
 */
final class FencedWrites {

    private final TransactionManager transactionManager;
    private final SegmentClaims claims;
    /** With claims: the store's bounds on lock waits and idle time. */
    private final WaitLimits limits;

    FencedWrites(TransactionManager transactionManager, OutboxStore store, SegmentClaims claims) {
        this.transactionManager = transactionManager;
        this.claims = claims;
        this.limits = claims == null ? WaitLimits.NONE
                : WaitLimits.of(() -> store.limitWaits(claims.lockWait(), claims.idleInTransactionLimit()),
                                store::restoreWaits);
    }

    /** Runs a write to rows of {@code segments} in one transaction fenced by their claims. */
    <T> T write(Set<Integer> segments, Supplier<T> work) {
        return limits.fetchInTransaction(transactionManager, () -> {
            T result = work.get();
            if (claims != null) {
                claims.fence(segments);
            }
            return result;
        });
    }

    /** Runs a recording of acknowledged rows only (SENT) in one transaction, its waits bounded. */
    <T> T recordSent(Supplier<T> work) {
        return limits.fetchInTransaction(transactionManager, work);
    }
}
