package io.github.pulsaroutbox.autoconfigure;

import org.axonframework.common.transaction.NoTransactionManager;
import io.github.pulsaroutbox.OutboxRow;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.metrics.OutboxStatistics;
import io.github.pulsaroutbox.relay.OutboxRelay;
import io.github.pulsaroutbox.store.OutboxMaintenance;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.Status;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

class OutboxHealthIndicatorTest {

    private static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");

    private final OutboxRelay relay = mock(OutboxRelay.class);

    @Test
    void upWithBacklogDetails() {
        when(relay.isRunning()).thenReturn(true);
        Health health = indicator(NOW.minusSeconds(10), true).health();
        assertThat(health.getStatus()).isEqualTo(Status.UP);
        assertThat(health.getDetails()).containsEntry("pending", 3L).containsEntry("parked", 1L)
                                       .containsEntry("oldestPendingAge", "PT10S")
                                       .containsEntry("relayRunning", true);
    }

    @Test
    void downWhenTheRelayShouldRunButDoesNot() {
        when(relay.isRunning()).thenReturn(false);
        assertThat(indicator(NOW, true).health().getStatus()).isEqualTo(Status.DOWN);
        assertThat(indicator(NOW, false).health().getStatus()).isEqualTo(Status.UP);
    }

    @Test
    void outOfServiceWhenTheOldestPendingRowIsTooOld() {
        when(relay.isRunning()).thenReturn(true);
        Health health = indicator(NOW.minus(Duration.ofMinutes(6)), true).health();
        assertThat(health.getStatus()).isEqualTo(Status.OUT_OF_SERVICE);
        assertThat(health.getDetails()).containsEntry("oldestPendingAge", "PT6M");
    }

    private OutboxHealthIndicator indicator(Instant oldestPending, boolean relayEnabled) {
        OutboxMaintenance maintenance = mock(OutboxMaintenance.class);
        when(maintenance.count(OutboxStatus.PENDING)).thenReturn(3L);
        when(maintenance.count(OutboxStatus.FAILED)).thenReturn(1L);
        when(maintenance.oldestPending()).thenReturn(Optional.of(oldestPending));
        OutboxStatistics statistics = new OutboxStatistics(maintenance, NoTransactionManager.instance(),
                                                           Duration.ofSeconds(5), Clock.fixed(NOW, ZoneOffset.UTC));
        return new OutboxHealthIndicator(statistics, relay, relayEnabled, Duration.ofMinutes(5));
    }
}
