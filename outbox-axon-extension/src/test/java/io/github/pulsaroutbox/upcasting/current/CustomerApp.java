package io.github.pulsaroutbox.upcasting.current;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/** The customer service as deployed today: CustomerRegistered is at version 3, with upcasters from 1 and 2. */
@SpringBootApplication
public class CustomerApp {
}
