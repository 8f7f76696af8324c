package io.github.pulsaroutbox.receiving.inbox;

import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The inbox's contract on a database server whose row locks make a concurrent first handling wait. */
abstract class AbstractServerJdbcInboxIntegrationTest extends AbstractJdbcInboxIntegrationTest {

    /** A query counting the transactions that wait for a lock. */
    abstract String waitingForALockQuery();

    private long waitingForALock() throws Exception {
        try (Connection c = dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(waitingForALockQuery())) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * Two replicas handle the same event at once (a redelivery during a rebalance): the second's record waits for
     * the first's transaction, and once that commits, finds the event handled (no error: its transaction goes on).
     */
    @Test
    void aConcurrentFirstHandlingWaitsForTheOtherTransactionAndThenSkips() throws Exception {
        createSchema();
        try (Connection first = transaction(); Connection second = transaction()) {
            assertThat(inboxOn(first).firstHandling("totals", "e-1", Instant.now())).isTrue();
            CompletableFuture<Boolean> concurrent = CompletableFuture.supplyAsync(
                    () -> inboxOn(second).firstHandling("totals", "e-1", Instant.now()));
            await().atMost(Duration.ofSeconds(30)).until(() -> waitingForALock() > 0); // blocked on the first
            assertThat(concurrent).isNotCompleted();
            first.commit();
            assertThat(concurrent.get(30, TimeUnit.SECONDS)).isFalse();
            second.commit();
        }
    }
}
