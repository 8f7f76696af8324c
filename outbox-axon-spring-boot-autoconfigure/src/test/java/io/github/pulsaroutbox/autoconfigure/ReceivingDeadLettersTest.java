package io.github.pulsaroutbox.autoconfigure;

import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class ReceivingDeadLettersTest {

    @Test
    void theReceivingGroupsAreTheProcessorsBoundToASourceAndTheInboxProcessors() {
        MockEnvironment environment = new MockEnvironment()
                .withProperty("axon.eventhandling.processors.billing.source", "orders")
                .withProperty("axon.eventhandling.processors.billing.mode", "pooled")
                .withProperty("axon.eventhandling.processors.projections.source", "eventStore")
                .withProperty("axon.eventhandling.processors.audit.mode", "tracking");

        assertThat(ReceivingDeadLetters.groupsOf(environment, Set.of("orders"), List.of("ledger")))
                .containsExactly("billing", "ledger");
    }

    @Test
    void aGroupsParkedEventsExistOnlyForAReceivingGroupWithAQueue() {
        ParkedEvents parked = new ParkedEvents().park("o-1", 0, true);

        assertThat(parked.deadLetters.groups()).containsExactly("audit", "billing");
        assertThat(parked.deadLetters.of("billing")).hasValueSatisfying(letters -> assertThat(letters.size())
                .isEqualTo(1));
        assertThat(parked.deadLetters.of("audit")).isEmpty();
        assertThat(parked.deadLetters.of("shipping")).isEmpty();
    }
}
