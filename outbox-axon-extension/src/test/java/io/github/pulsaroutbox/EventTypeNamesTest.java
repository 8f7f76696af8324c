package io.github.pulsaroutbox;

import org.axonframework.common.AxonConfigurationException;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EventTypeNamesTest {

    record MoneyDeposited(String accountId) {
    }

    @Outbox.EventType("bank.money-withdrawn")
    record MoneyWithdrawn(String accountId) {
    }

    @Test
    void theSimpleNameByDefaultNeverThePackage() {
        EventTypeNames names = EventTypeNames.defaults();
        assertThat(names.apply(MoneyDeposited.class.getName())).isEqualTo("MoneyDeposited");
        assertThat(names.apply("com.acme.gone.OrderPlaced")).isEqualTo("OrderPlaced"); // class no longer on the path
        assertThat(names.apply("Plain")).isEqualTo("Plain");
    }

    @Test
    void anAnnotationNamesItAndConfigurationWins() {
        assertThat(EventTypeNames.defaults().apply(MoneyWithdrawn.class.getName())).isEqualTo("bank.money-withdrawn");
        EventTypeNames configured = EventTypeNames.withOverrides(Map.of(MoneyWithdrawn.class.getName(), "withdrawn",
                                                                        MoneyDeposited.class.getName(), "deposited"));
        assertThat(configured.apply(MoneyWithdrawn.class.getName())).isEqualTo("withdrawn");
        assertThat(configured.apply(MoneyDeposited.class.getName())).isEqualTo("deposited");
    }

    @Test
    void namesAreValidated() {
        assertThatThrownBy(() -> EventTypeNames.withOverrides(Map.of("com.acme.X", "has space")))
                .isInstanceOf(AxonConfigurationException.class).hasMessageContaining("com.acme.X");
    }
}
