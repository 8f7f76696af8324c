package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.OutboxStatus;
import io.github.pulsaroutbox.metrics.OutboxStatistics;
import io.github.pulsaroutbox.operations.OutboxOperations;
import io.github.pulsaroutbox.relay.OutboxRelay;
import io.github.pulsaroutbox.relay.RelayHealth;
import io.github.pulsaroutbox.store.OutboxMaintenance;
import org.axonframework.common.transaction.NoTransactionManager;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.SimpleStatusAggregator;
import org.springframework.boot.actuate.health.Status;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/**
 * The outbox's health: UP, or DEGRADED with the reasons (relay not running, broker failing, topics that cannot be
 * opened, old backlog, mass parking), a status the application's overall health ignores.
 */
class OutboxHealthIndicatorTest {

    private static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");
    private static final RelayHealth FINE = new RelayHealth(NOW.minusSeconds(1), null, null, null, Map.of(), Map.of());

    private final OutboxRelay relay = mock(OutboxRelay.class);
    private long parked = 1;

    @Test
    void upWithBacklogDetails() {
        running(FINE);
        Health health = indicator(NOW.minusSeconds(10), true).health();
        assertThat(health.getStatus()).isEqualTo(Status.UP);
        assertThat(health.getDetails()).containsEntry("pending", 3L).containsEntry("parked", 1L)
                                       .containsEntry("oldestPendingAge", "PT10S")
                                       .containsEntry("relayRunning", true).doesNotContainKey("reasons");
    }

    @Test
    void degradedWhenTheRelayShouldRunButDoesNot() {
        when(relay.isRunning()).thenReturn(false);
        when(relay.health()).thenReturn(FINE);
        assertThat(reasons(indicator(NOW, true).health())).singleElement().asString()
                                                           .contains("the relay is not running");
        assertThat(indicator(NOW, false).health().getStatus()).isEqualTo(Status.UP);
    }

    @Test
    void degradedWhenTheOldestPendingRowIsTooOld() {
        running(FINE);
        Health health = indicator(NOW.minus(Duration.ofMinutes(6)), true).health();
        assertThat(reasons(health)).singleElement().asString().contains("oldest pending row waits longer than PT5M");
        assertThat(health.getDetails()).containsEntry("oldestPendingAge", "PT6M");
    }

    @Test
    void degradedWithTheLastErrorWhenTheBrokerHasFailedLongerThanAllowed() {
        running(new RelayHealth(NOW.minusSeconds(90), NOW.minusSeconds(31), FailureKind.UNAVAILABLE,
                                "ConnectException: Connection refused", Map.of(), Map.of()));
        assertThat(reasons(indicator(NOW, true).health())).singleElement().asString()
                .contains("no row acknowledged for PT31S").contains("UNAVAILABLE: ConnectException");

        running(new RelayHealth(NOW.minusSeconds(90), NOW.minusSeconds(29), FailureKind.UNAVAILABLE, "refused",
                                Map.of(), Map.of()));
        assertThat(indicator(NOW, true).health().getStatus()).isEqualTo(Status.UP); // a blip is not an outage
    }

    @Test
    @SuppressWarnings("unchecked")
    void degradedWhenAProducerOpeningHasHadNoAnswerLongerThanAllowedBeforeTheClientTimesOut() {
        running(new RelayHealth(null, null, null, null, Map.of(), Map.of(),
                                Map.of("persistent://t/ns/x", NOW.minusSeconds(31))));
        Health health = indicator(NOW, true).health();
        assertThat(reasons(health)).singleElement().asString()
                .contains("no producer opened for PT31S").contains("[persistent://t/ns/x]");
        assertThat((Map<String, Object>) health.getDetails().get("broker"))
                .containsEntry("lastAcknowledged", "never since the start")
                .containsKey("openingProducersSince")
                .doesNotContainKeys("lastFailure", "lastFailureKind");

        running(new RelayHealth(null, null, null, null, Map.of(), Map.of(),
                                Map.of("persistent://t/ns/x", NOW.minusSeconds(29))));
        assertThat(indicator(NOW, true).health().getStatus()).isEqualTo(Status.UP); // opening takes a moment
    }

    @Test
    void noDetailIsTheStringNull() {
        running(new RelayHealth(null, NOW.minusSeconds(1), null, null, Map.of(), Map.of()));
        assertThat(indicator(NOW, true).health().toString()).doesNotContain("null");
    }

    @Test
    void degradedWhenTopicsCannotBeOpenedOrManyRowsAreParked() {
        running(new RelayHealth(NOW, null, null, null, Map.of("persistent://t/ns/x", "TIMEOUT: no answer"),
                                Map.of(FailureKind.UNKNOWN_TOPIC, 100L)));
        parked = 100;
        List<String> reasons = reasons(indicator(NOW, true).health());
        assertThat(reasons).hasSize(2);
        assertThat(reasons.get(0)).contains("producers cannot be opened for [persistent://t/ns/x]");
        assertThat(reasons.get(1)).contains("100 row(s) parked").contains("UNKNOWN_TOPIC=100");
    }

    @Test
    @SuppressWarnings("unchecked")
    void healthReportsTheBacklogAgeTheEndpointJustRead() {
        running(FINE);
        OutboxMaintenance maintenance = mock(OutboxMaintenance.class);
        when(maintenance.count(OutboxStatus.PENDING)).thenReturn(3L);
        when(maintenance.oldestPending()).thenReturn(Optional.of(NOW.minusSeconds(10)));
        Instant[] now = {NOW};
        Clock clock = new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now[0];
            }
        };
        OutboxStatistics statistics = new OutboxStatistics(maintenance, NoTransactionManager.instance(),
                                                           Duration.ofSeconds(5), clock);
        OutboxOperations operations = new OutboxOperations(maintenance, NoTransactionManager.instance(), () -> {
        }, io.github.pulsaroutbox.metrics.OutboxMetrics.NOOP, clock);
        OutboxEndpoint endpoint = new OutboxEndpoint(operations, relay, statistics);
        OutboxHealthIndicator indicator = new OutboxHealthIndicator(
                statistics, relay, true, new OutboxProperties.Health(Duration.ofMinutes(5), Duration.ofSeconds(30),
                                                                     100), clock);

        Map<String, Object> read = (Map<String, Object>) endpoint.outbox(null, null, null, null).getBody();
        assertThat(read).containsEntry("oldestPendingAge", "PT10S").containsEntry("backlogReadAt", NOW.toString());
        now[0] = NOW.plusSeconds(2); // within the refresh interval: the same reading, not one of its own
        assertThat(indicator.health().getDetails()).containsEntry("oldestPendingAge", "PT10S")
                                                   .containsEntry("backlogReadAt", NOW.toString());
        now[0] = NOW.plusSeconds(6);
        assertThat(indicator.health().getDetails()).containsEntry("oldestPendingAge", "PT16S");
    }

    @Test
    void theApplicationsOverallHealthIgnoresDegraded() {
        Status overall = new SimpleStatusAggregator().getAggregateStatus(Set.of(Status.UP,
                                                                                OutboxHealthIndicator.DEGRADED));
        assertThat(overall).isEqualTo(Status.UP);
    }

    private void running(RelayHealth health) {
        when(relay.isRunning()).thenReturn(true);
        when(relay.health()).thenReturn(health);
    }

    @SuppressWarnings("unchecked")
    private static List<String> reasons(Health health) {
        assertThat(health.getStatus()).isEqualTo(OutboxHealthIndicator.DEGRADED);
        return (List<String>) health.getDetails().get("reasons");
    }

    private OutboxHealthIndicator indicator(Instant oldestPending, boolean relayEnabled) {
        OutboxMaintenance maintenance = mock(OutboxMaintenance.class);
        when(maintenance.count(OutboxStatus.PENDING)).thenReturn(3L);
        when(maintenance.count(OutboxStatus.FAILED)).thenReturn(parked);
        when(maintenance.oldestPending()).thenReturn(Optional.of(oldestPending));
        Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
        OutboxStatistics statistics = new OutboxStatistics(maintenance, NoTransactionManager.instance(),
                                                           Duration.ofSeconds(5), clock);
        return new OutboxHealthIndicator(statistics, relay, relayEnabled,
                                         new OutboxProperties.Health(Duration.ofMinutes(5), Duration.ofSeconds(30),
                                                                     100), clock);
    }
}
