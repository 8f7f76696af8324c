package org.axonframework.extensions.outbox.testapp;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/** A minimal Axon application (JPA event store on H2) used by the integration tests. */
@SpringBootApplication
public class OutboxTestApplication {
}
