package io.github.pulsaroutbox.relay;

import org.axonframework.common.transaction.TransactionManager;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WaitLimitsTest {

    private final List<String> log = new ArrayList<>();
    private final TransactionManager transactions = LoggingTransactions.into(log);
    private RuntimeException restoreFailure;
    private final WaitLimits limits = WaitLimits.of(() -> log.add("limit"), () -> {
        log.add("restore");
        if (restoreFailure != null) {
            throw restoreFailure;
        }
    });

    @Nested
    class InATransaction {

        @Test
        void limitsFirstAndRestoresLastBeforeTheCommit() {
            assertThat(limits.fetchInTransaction(transactions, () -> {
                log.add("work");
                return "result";
            })).isEqualTo("result");

            assertThat(log).containsExactly("begin", "limit", "work", "restore", "commit");
        }

        @Test
        void restoresAlsoWhenTheWorkFailedAndThrowsTheWorksFailure() {
            restoreFailure = new IllegalStateException("session ended");

            assertThatThrownBy(() -> limits.executeInTransaction(transactions, () -> {
                throw new IllegalArgumentException("lock wait timeout");
            })).isInstanceOf(IllegalArgumentException.class).hasMessage("lock wait timeout")
               .satisfies(e -> assertThat(e.getSuppressed()).containsExactly(restoreFailure));

            assertThat(log).containsExactly("begin", "limit", "restore", "rollback");
        }

        @Test
        void aWorkFailureThatTheRestoreThrowsAgainIsThrownOnce() {
            restoreFailure = new IllegalStateException("database down");

            assertThatThrownBy(() -> limits.executeInTransaction(transactions, () -> {
                throw restoreFailure;
            })).isSameAs(restoreFailure).satisfies(e -> assertThat(e.getSuppressed()).isEmpty());

            assertThat(log).containsExactly("begin", "limit", "restore", "rollback");
        }

        @Test
        void restoresAlsoAfterACheckedExceptionThrownSneakily() {
            Exception checked = new java.io.IOException("thrown sneakily");

            assertThatThrownBy(() -> limits.executeInTransaction(transactions, () -> sneakyThrow(checked)))
                    .isSameAs(checked);

            assertThat(log).containsExactly("begin", "limit", "restore", "rollback");
        }

        @Test
        void aRestoreThatFailsAfterTheWorkRollsTheTransactionBack() {
            restoreFailure = new IllegalStateException("connection broken");

            assertThatThrownBy(() -> limits.executeInTransaction(transactions, () -> log.add("work")))
                    .isSameAs(restoreFailure);

            assertThat(log).containsExactly("begin", "limit", "work", "restore", "rollback");
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> void sneakyThrow(Throwable throwable) throws E {
        throw (E) throwable;
    }

    @Nested
    class None {

        @Test
        void runsAPlainTransaction() {
            WaitLimits.NONE.executeInTransaction(transactions, () -> log.add("work"));

            assertThat(log).containsExactly("begin", "work", "commit");
        }
    }
}
