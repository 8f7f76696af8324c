package io.github.pulsaroutbox.capture;

import io.github.pulsaroutbox.Outbox;
import io.github.pulsaroutbox.testapp.Counter;
import io.github.pulsaroutbox.testapp.ShopOrder;
import org.axonframework.modelling.command.AggregateIdentifier;
import org.axonframework.modelling.command.AggregateRoot;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CapturedAggregatesTest {

    @Outbox(topic = "invoices")
    @AggregateRoot(type = "invoice")
    static class Invoice {
        @AggregateIdentifier
        String id;
    }

    @Outbox
    @AggregateRoot(type = "invoice")
    static class OtherInvoice {
        @AggregateIdentifier
        String id;
    }

    @Test
    void keepsOnlyAnnotatedAggregatesByTheirAxonTypeName() {
        CapturedAggregates captured = CapturedAggregates.of(List.of(ShopOrder.class, Counter.class, Invoice.class));
        assertThat(captured.types()).containsExactlyInAnyOrder("ShopOrder", "invoice");
        assertThat(captured.isCaptured("Counter")).isFalse();
        assertThat(captured.annotatedTopic("invoice")).contains("invoices");
        assertThat(captured.annotatedTopic("ShopOrder")).isEmpty();
    }

    @Test
    void rejectsTwoAnnotatedClassesWithTheSameType() {
        assertThatThrownBy(() -> CapturedAggregates.of(List.of(Invoice.class, OtherInvoice.class)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("invoice");
    }
}
