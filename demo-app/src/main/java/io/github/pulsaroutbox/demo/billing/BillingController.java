package io.github.pulsaroutbox.demo.billing;

import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /billing/{orderId}}: billing's invoice of an order, as it learned about it through Pulsar. */
@RestController
public class BillingController {

    private final InvoiceRepository invoices;

    public BillingController(InvoiceRepository invoices) {
        this.invoices = invoices;
    }

    @GetMapping("/billing/{orderId}")
    public ResponseEntity<Invoice> invoice(@PathVariable String orderId) {
        return invoices.findById(orderId).map(ResponseEntity::ok).orElse(ResponseEntity.notFound().build());
    }
}
