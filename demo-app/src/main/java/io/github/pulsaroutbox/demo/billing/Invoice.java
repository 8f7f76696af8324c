package io.github.pulsaroutbox.demo.billing;

import jakarta.persistence.Entity;
import jakarta.persistence.Id;

/** Billing's view of an order: its customer, the items to bill, and whether it is to be invoiced. */
@Entity
public class Invoice {

    @Id
    private String orderId;
    private String customer;
    private int items;
    private String status;

    protected Invoice() {
    }

    Invoice(String orderId, String customer) {
        this.orderId = orderId;
        this.customer = customer;
        this.status = "OPEN";
    }

    void add(int quantity) {
        items += quantity;
    }

    void status(String status) {
        this.status = status;
    }

    public String getOrderId() {
        return orderId;
    }

    public String getCustomer() {
        return customer;
    }

    public int getItems() {
        return items;
    }

    public String getStatus() {
        return status;
    }
}
