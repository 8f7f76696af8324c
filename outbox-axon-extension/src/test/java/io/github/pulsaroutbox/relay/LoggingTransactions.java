package io.github.pulsaroutbox.relay;

import org.axonframework.common.transaction.Transaction;
import org.axonframework.common.transaction.TransactionManager;

import java.util.List;

/** Transactions that add "begin", "commit" and "rollback" to a log, for tests of what a transaction runs, in order. */
final class LoggingTransactions {

    private LoggingTransactions() {
    }

    static TransactionManager into(List<String> log) {
        return () -> {
            log.add("begin");
            return new Transaction() {
                @Override
                public void commit() {
                    log.add("commit");
                }

                @Override
                public void rollback() {
                    log.add("rollback");
                }
            };
        };
    }
}
