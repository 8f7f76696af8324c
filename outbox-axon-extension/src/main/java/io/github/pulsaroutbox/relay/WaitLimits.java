package io.github.pulsaroutbox.relay;

import org.axonframework.common.transaction.TransactionManager;

import java.util.function.Supplier;

/**
 * How a transaction of the relay's or its claims' bounds its lock waits and idle time ({@link #limit}, first in the
 * transaction, {@link io.github.pulsaroutbox.store.OutboxNodes#limitWaits}) and gives its connection the settings back
 * ({@link #restore}, last in the transaction, {@link io.github.pulsaroutbox.store.OutboxNodes#restoreWaits}).
 * <p>
 * Guarantees ({@link #fetchInTransaction}): {@link #restore} runs last in the same transaction whenever {@link #limit}
 * did, also when the work failed (its failure is then the one thrown, the restore's added as suppressed); a restore
 * that fails after the work succeeded fails the transaction, which rolls back (the caller retries). Where the bounds
 * are the session's (MariaDB), they end with the restore: the wait for the commit that follows it is the session's
 * own (docs/databases.md).
 */
@FunctionalInterface
interface WaitLimits {

    /** Transactions without bounds. */
    WaitLimits NONE = () -> {
    };

    /** Bounds the current transaction's waits. */
    void limit();

    /** Gives the current transaction's connection back what {@link #limit} changed. By default nothing. */
    default void restore() {
    }

    /** Limits first and restores last. */
    static WaitLimits of(Runnable limit, Runnable restore) {
        return new WaitLimits() {
            @Override
            public void limit() {
                limit.run();
            }

            @Override
            public void restore() {
                restore.run();
            }
        };
    }

    /** Runs {@code work} in a transaction of {@code transactionManager}, its waits bounded. */
    default <T> T fetchInTransaction(TransactionManager transactionManager, Supplier<T> work) {
        return transactionManager.fetchInTransaction(() -> {
            limit();
            T result;
            try {
                result = work.get();
            } catch (Throwable e) { // whatever the work threw (also a checked exception thrown sneakily)
                try {
                    restore();
                } catch (Throwable restoreFailure) {
                    if (restoreFailure != e) { // the same failure again (a broken connection, say): thrown once
                        e.addSuppressed(restoreFailure);
                    }
                }
                throw e;
            }
            restore();
            return result;
        });
    }

    /** Runs {@code work} in a transaction of {@code transactionManager}, its waits bounded. */
    default void executeInTransaction(TransactionManager transactionManager, Runnable work) {
        fetchInTransaction(transactionManager, () -> {
            work.run();
            return null;
        });
    }
}
