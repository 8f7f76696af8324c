package io.github.pulsaroutbox.autoconfigure;

import io.github.pulsaroutbox.receiving.PulsarSubscribableMessageSource;
import io.github.pulsaroutbox.receiving.inbox.Inbox;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.Status;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

class ReceivingHealthIndicatorTest {

    private static PulsarSubscribableMessageSource source(boolean consuming, boolean connected) {
        PulsarSubscribableMessageSource source = mock(PulsarSubscribableMessageSource.class);
        when(source.consuming()).thenReturn(consuming);
        when(source.connected()).thenReturn(connected);
        when(source.subscription()).thenReturn("billing");
        when(source.handled()).thenReturn(7L);
        return source;
    }

    @Test
    void aSubscribedSourceWithoutAConnectedConsumerIsDegradedWithTheReason() {
        Health health = new ReceivingHealthIndicator(Map.of("orders", source(true, false)), null,
                                                     new ParkedEvents().deadLetters).health();

        assertThat(health.getStatus()).isEqualTo(new Status("DEGRADED"));
        assertThat(health.getDetails().get("reasons").toString())
                .contains("source 'orders'").contains("subscription billing").contains("not connected");
    }

    @Test
    void connectedOrNotYetSubscribedSourcesAreUpWithTheirCounts() {
        InboxInterceptors interceptors = new InboxInterceptors(mock(Inbox.class), List.of("billing"));
        Health health = new ReceivingHealthIndicator(Map.of("orders", source(true, true),
                                                            "payments", source(false, false)), interceptors,
                                                     new ParkedEvents().deadLetters)
                .health();

        assertThat(health.getStatus()).isEqualTo(Status.UP);
        assertThat(health.getDetails().get("sources").toString()).contains("orders").contains("handled=7")
                                                                 .contains("payments").contains("consuming=false");
        assertThat(health.getDetails().get("inboxDuplicates")).isEqualTo(Map.of("billing", 0L));
    }

    @Test
    void showsTheAggregatesParkedPerGroupWithADeadLetterQueueAndStaysUp() {
        ParkedEvents parked = new ParkedEvents().park("o-1", 3, true).park("o-1", 4, false).park("o-2", 0, true);

        Health health = new ReceivingHealthIndicator(Map.of(), null, parked.deadLetters).health();

        assertThat(health.getStatus()).isEqualTo(Status.UP);
        assertThat(health.getDetails().get("deadLetteredSequences")).isEqualTo(Map.of("billing", 2L));
    }
}
