package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.FailureKind;
import io.github.pulsaroutbox.relay.RelayHealth;
import io.github.pulsaroutbox.tailing.EventStoreTailingModule;
import io.github.pulsaroutbox.deadletter.ProcessingGroupDeadLetters;
import org.axonframework.eventhandling.EventProcessor;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.Status;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

/** The outbox health in the tailing mode, on a fixed clock, with the module and processor mocked. */
class TailingHealthIndicatorTest {

    private static final Instant NOW = Instant.parse("2026-12-06T10:00:00Z");
    private static final OutboxProperties.Health LIMITS =
            new OutboxProperties.Health(Duration.ofMinutes(5), Duration.ofSeconds(30), 10);

    private final EventStoreTailingModule module = mock(EventStoreTailingModule.class);
    private final EventProcessor processor = mock(EventProcessor.class);
    private Optional<EventProcessor> registered = Optional.of(processor);

    {
        when(module.processorName()).thenReturn("pulsar-outbox-tailing");
        when(module.deadLetters()).thenReturn(Optional.empty());
        when(module.health()).thenReturn(new RelayHealth(NOW.minusSeconds(1), null, null, null, Map.of(), Map.of()));
        when(processor.isRunning()).thenReturn(true);
    }

    private Health health() {
        return new TailingHealthIndicator(module, () -> registered, LIMITS, Clock.fixed(NOW, ZoneOffset.UTC)).health();
    }

    @SuppressWarnings("unchecked")
    private static List<String> reasons(Health health) {
        return (List<String>) health.getDetails().get("reasons");
    }

    @Nested
    class Up {

        @Test
        void upWithTheProcessorAndTheBrokerDetailsAndNoNullStrings() {
            Health health = health();
            assertThat(health.getStatus()).isEqualTo(Status.UP);
            assertThat(health.getDetails()).containsEntry("mode", "tailing")
                                           .containsEntry("processorRunning", true)
                                           .containsEntry("deadLetteredSequences", 0L)
                                           .doesNotContainKey("reasons");
            assertThat(health.toString()).doesNotContain("null");
        }
    }

    @Nested
    class Degraded {

        @Test
        void whenTheProcessorIsMissingStoppedOrInError() {
            registered = Optional.empty();
            assertThat(reasons(health())).singleElement().asString().contains("is not running");

            registered = Optional.of(processor);
            when(processor.isError()).thenReturn(true);
            assertThat(reasons(health())).singleElement().asString().contains("error mode");
        }

        @Test
        void whenABatchHasWaitedForTheBrokerLongerThanAllowed() {
            when(module.health()).thenReturn(new RelayHealth(null, null, null, null, Map.of(), Map.of(),
                                                             Map.of("segment 0", NOW.minusSeconds(31))));
            Health health = health();
            assertThat(health.getStatus()).isEqualTo(OutboxHealthIndicator.DEGRADED);
            assertThat(reasons(health)).singleElement().asString()
                    .contains("no acknowledgement for PT31S").contains("[segment 0]");

            when(module.health()).thenReturn(new RelayHealth(null, null, null, null, Map.of(), Map.of(),
                                                             Map.of("segment 0", NOW.minusSeconds(29))));
            assertThat(health().getStatus()).isEqualTo(Status.UP);
        }

        @Test
        void whenBatchesHaveFailedWithoutAcknowledgementLongerThanAllowed() {
            when(module.health()).thenReturn(new RelayHealth(NOW.minusSeconds(90), NOW.minusSeconds(40),
                                                             FailureKind.TIMEOUT, "no acknowledgement", Map.of(),
                                                             Map.of()));
            assertThat(reasons(health())).singleElement().asString()
                    .contains("no batch acknowledged for PT40S").contains("TIMEOUT: no acknowledgement");
        }

        @Test
        void whenManyAggregateSequencesAreDeadLettered() {
            ProcessingGroupDeadLetters deadLetters = mock(ProcessingGroupDeadLetters.class);
            when(deadLetters.sequences()).thenReturn(10L);
            when(module.deadLetters()).thenReturn(Optional.of(deadLetters));
            assertThat(reasons(health())).singleElement().asString().contains("10 aggregate sequence(s) dead-lettered");
        }
    }
}
