package io.github.pulsaroutbox.demo.billing;

import org.springframework.data.jpa.repository.JpaRepository;

/** The invoices billing keeps. */
public interface InvoiceRepository extends JpaRepository<Invoice, String> {
}
