package io.github.pulsaroutbox.demo.billing;

import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.ResetHandler;
import org.springframework.stereotype.Component;

/**
 * Stands in for a second bounded context, billing: a tracking processor reads the order events from Pulsar
 * ({@code axon.eventhandling.processors.billing.source=order-events}), and the inbox applies each once
 * ({@code pulsar-outbox.receiving.inbox.processors=billing}), in the transaction that updates the invoice, so a
 * redelivered event never counts an item twice.
 */
@Component
@ProcessingGroup("billing")
public class BillingProjection {

    private final InvoiceRepository invoices;

    public BillingProjection(InvoiceRepository invoices) {
        this.invoices = invoices;
    }

    @EventHandler
    void on(BillingEvents.OrderPlaced event) {
        invoices.save(new Invoice(event.orderId(), event.customer()));
    }

    @EventHandler
    void on(BillingEvents.LineAdded event) {
        invoices.findById(event.orderId()).ifPresent(invoice -> invoice.add(event.quantity()));
    }

    @EventHandler
    void on(BillingEvents.OrderConfirmed event) {
        invoices.findById(event.orderId()).ifPresent(invoice -> invoice.status("TO_INVOICE"));
    }

    @EventHandler
    void on(BillingEvents.OrderCancelled event) {
        invoices.findById(event.orderId()).ifPresent(invoice -> invoice.status("CANCELLED"));
    }

    @ResetHandler
    void reset() {
        invoices.deleteAll();
    }
}
