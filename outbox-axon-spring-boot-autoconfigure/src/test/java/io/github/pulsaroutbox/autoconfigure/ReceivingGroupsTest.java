package io.github.pulsaroutbox.autoconfigure;

import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class ReceivingGroupsTest {

    @Test
    void theReceivingGroupsAreTheProcessorsBoundToASourceAndTheInboxProcessors() {
        MockEnvironment environment = new MockEnvironment()
                .withProperty("axon.eventhandling.processors.billing.source", "orders")
                .withProperty("axon.eventhandling.processors.billing.mode", "pooled")
                .withProperty("axon.eventhandling.processors.projections.source", "eventStore")
                .withProperty("axon.eventhandling.processors.audit.mode", "tracking");

        assertThat(ReceivingGroups.of(environment, Set.of("orders"), List.of("ledger")).names())
                .containsExactly("billing", "ledger");
    }
}
