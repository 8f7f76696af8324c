package io.github.pulsaroutbox.receiving.inbox;

import io.github.pulsaroutbox.TestMariaDb;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class MariaDbJdbcInboxIntegrationTest extends AbstractJdbcInboxIntegrationTest {

    private final DataSource dataSource = TestMariaDb.dataSource();

    private long waitingForALock() throws Exception {
        try (Connection c = dataSource.getConnection(); java.sql.Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery(
                     "SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Override
    DataSource dataSource() {
        return dataSource;
    }

    /**
     * Two replicas handle the same event at once: the second's record waits for the first's transaction, and once
     * that commits, finds the event handled (no error: its transaction goes on).
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
