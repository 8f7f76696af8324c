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
 *     a node frozen inside one holds up the new owner for at most that long.</li>
 * </ul>
 * Without claims (one relay per outbox) both are plain transactions.
 */
final class FencedWrites {

    private final TransactionManager transactionManager;
    private final OutboxStore store;
    private final SegmentClaims claims;

    FencedWrites(TransactionManager transactionManager, OutboxStore store, SegmentClaims claims) {
        this.transactionManager = transactionManager;
        this.store = store;
        this.claims = claims;
    }

    /** Runs a write to rows of {@code segments} in one transaction fenced by their claims. */
    <T> T write(Set<Integer> segments, Supplier<T> work) {
        return transactionManager.fetchInTransaction(() -> {
            limitWaits();
            T result = work.get();
            if (claims != null) {
                claims.fence(segments);
            }
            return result;
        });
    }

    /** Runs a recording of acknowledged rows only (SENT) in one transaction, its waits bounded. */
    <T> T recordSent(Supplier<T> work) {
        return transactionManager.fetchInTransaction(() -> {
            limitWaits();
            return work.get();
        });
    }

    private void limitWaits() {
        if (claims != null) {
            store.limitWaits(claims.lockWait(), claims.idleInTransactionLimit());
        }
    }
}
