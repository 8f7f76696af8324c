package io.github.pulsaroutbox.autoconfigure;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ReceivingDeadLettersTest {

    @Test
    void aGroupsParkedEventsExistOnlyForAReceivingGroupWithAQueue() {
        ParkedEvents parked = new ParkedEvents().park("o-1", 0, true);

        assertThat(parked.deadLetters.groups()).containsExactly("audit", "billing");
        assertThat(parked.deadLetters.of("billing")).hasValueSatisfying(letters -> assertThat(letters.size())
                .isEqualTo(1));
        assertThat(parked.deadLetters.of("audit")).isEmpty();
        assertThat(parked.deadLetters.of("shipping")).isEmpty();
    }

    @Test
    void noGroupHasParkedEventsBeforeAxonsConfigurationIsInitialized() {
        org.axonframework.config.EventProcessingConfiguration processing =
                org.mockito.Mockito.mock(org.axonframework.config.EventProcessingConfiguration.class);
        org.mockito.Mockito.when(processing.deadLetterQueue("billing")).thenThrow(
                new org.axonframework.common.AxonConfigurationException("not initialized"));
        org.springframework.beans.factory.support.StaticListableBeanFactory beans =
                new org.springframework.beans.factory.support.StaticListableBeanFactory(
                        java.util.Map.of("processing", processing));
        ReceivingDeadLetters deadLetters = new ReceivingDeadLetters(
                new ReceivingGroups(java.util.List.of("billing")),
                beans.getBeanProvider(org.axonframework.config.EventProcessingConfiguration.class),
                beans.getBeanProvider(org.axonframework.common.transaction.TransactionManager.class));

        assertThat(deadLetters.of("billing")).isEmpty();
    }
}
