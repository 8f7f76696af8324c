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
}
